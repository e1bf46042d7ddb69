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
	for _, tc := range []struct {
		name    string
		ahead   []byte // the server's answer to the statement sent ahead
		want    []byte // what ReadPacket must return for the command
		broken  bool
		inTrans bool
	}{
		{"ok", ok, answer, false, true},
		{"error", fail, fail, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli, srv := net.Pipe()
			defer cli.Close()
			got := make(chan string, 4)
			fakeServer(t, srv, [][]byte{tc.ahead, answer}, got)
			c := &Conn{Conn: wire.NewConn(cli)}
			c.ExecAhead("XA START 'x'")
			go func() { _ = c.WriteCommandStr(mysql.COM_QUERY, "SELECT 1") }()
			p, err := c.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			if string(p) != string(tc.want) {
				t.Fatalf("read %q, want %q", p, tc.want)
			}
			if s := <-got; s != "XA START 'x'" {
				t.Fatalf("first command %q", s)
			}
			if c.Broken() != tc.broken {
				t.Fatalf("broken %v, want %v (an error leaves the command's answer unread)", c.Broken(), tc.broken)
			}
			if tc.inTrans && c.Status&mysql.SERVER_STATUS_IN_TRANS == 0 {
				t.Fatalf("status %#x: the ahead statement's OK was not recorded", c.Status)
			}
		})
	}
}
