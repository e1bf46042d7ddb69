package backend

import (
	"net"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
)

// fakeServer reads commands from srv and answers the i-th with answers[i],
// reporting each command's argument on got.
func fakeServer(t *testing.T, srv net.Conn, answers [][]byte, got chan<- string) {
	t.Helper()
	go func() {
		w := wire.NewConn(srv)
		for _, a := range answers {
			p, err := w.ReadPacket()
			if err != nil {
				close(got)
				return
			}
			got <- string(p[1:])
			w.Seq = 1
			w.WritePacket(a)
			if err := w.Flush(); err != nil {
				close(got)
				return
			}
		}
		close(got)
	}()
}

func TestExecAhead(t *testing.T) {
	ok := wire.AppendOK(nil, wire.OKHeader, &wire.OK{Status: mysql.SERVER_STATUS_IN_TRANS | mysql.SERVER_STATUS_AUTOCOMMIT}, true)
	answer := wire.AppendOK(nil, wire.OKHeader, &wire.OK{AffectedRows: 7, Status: mysql.SERVER_STATUS_IN_TRANS}, true)
	fail := wire.AppendErr(nil, mysql.NewError(1399, "XAER_RMFAIL: the command cannot be executed"))

	t.Run("ok", func(t *testing.T) {
		cli, srv := net.Pipe()
		defer cli.Close()
		got := make(chan string, 4)
		fakeServer(t, srv, [][]byte{ok, answer}, got)
		c := &Conn{Conn: wire.NewConn(cli)}
		c.ExecAhead("XA START 'x'")
		go func() { _ = c.WriteCommandStr(mysql.COM_QUERY, "SELECT 1") }()
		p, err := c.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != "XA START 'x'" {
			t.Fatalf("first command %q", s)
		}
		if s := <-got; s != "SELECT 1" {
			t.Fatalf("second command %q", s)
		}
		o, err := wire.ParseOK(p, true)
		if err != nil || o.AffectedRows != 7 {
			t.Fatalf("read %v (%v), want the command's own answer", o, err)
		}
		if c.Status&mysql.SERVER_STATUS_IN_TRANS == 0 || c.Broken() {
			t.Fatalf("status %#x broken %v after a good ahead statement", c.Status, c.Broken())
		}
	})

	t.Run("error", func(t *testing.T) {
		cli, srv := net.Pipe()
		defer cli.Close()
		got := make(chan string, 4)
		fakeServer(t, srv, [][]byte{fail, answer}, got)
		c := &Conn{Conn: wire.NewConn(cli)}
		c.ExecAhead("XA START 'x'")
		go func() { _ = c.WriteCommandStr(mysql.COM_QUERY, "SELECT 1") }()
		p, err := c.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		if p[0] != wire.ErrHeader || wire.ParseErr(p).Code != 1399 {
			t.Fatalf("read %q, want the ahead statement's error in the command's place", p)
		}
		if !c.Broken() {
			t.Fatal("the connection must be broken: the command's answer was not read")
		}
	})
}
