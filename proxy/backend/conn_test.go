package backend

import (
	"net"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
)

// fakeServer reads commands from srv and answers the i-th with the packets
// answers[i], reporting each command (command byte and argument) on got.
func fakeServer(srv net.Conn, answers [][][]byte, got chan<- string) {
	go func() {
		defer close(got)
		w := wire.NewConn(srv)
		for _, a := range answers {
			p, err := w.ReadPacket()
			if err != nil {
				return
			}
			got <- string(p)
			w.Seq = 1
			for _, q := range a {
				w.WritePacket(q)
			}
			if err := w.Flush(); err != nil {
				return
			}
		}
	}()
}

// TestExecAhead: a transaction's start queued by ExecAhead rides in the
// next query's packet, or runs on its own before any other command; if it
// fails, its error answers the command, which the server never runs.
func TestExecAhead(t *testing.T) {
	okMore := wire.AppendOK(nil, wire.OKHeader, &wire.OK{Status: mysql.SERVER_STATUS_IN_TRANS | mysql.SERVER_MORE_RESULTS_EXISTS}, true)
	ok := wire.AppendOK(nil, wire.OKHeader, &wire.OK{Status: mysql.SERVER_STATUS_IN_TRANS}, true)
	answer := wire.AppendOK(nil, wire.OKHeader, &wire.OK{AffectedRows: 7, Status: mysql.SERVER_STATUS_IN_TRANS}, true)
	fail := wire.AppendErr(nil, mysql.NewError(1399, "XAER_RMFAIL: the command cannot be executed"))
	query := func(c *Conn) error { return c.WriteCommandStr(mysql.COM_QUERY, "UPDATE t SET a = 1") }
	execute := func(c *Conn) error { return c.WriteCommand([]byte{mysql.COM_STMT_EXECUTE, 1, 0, 0, 0}) }
	for _, tc := range []struct {
		name    string
		send    func(*Conn) error
		answers [][][]byte // the server's answers, per command it reads
		want    []byte     // what ReadPacket must return for the command
		sent    []string   // the commands the server read
		broken  bool
	}{
		{"query", query, [][][]byte{{okMore, okMore, answer}}, answer,
			[]string{"\x03XA START 'x'; SAVEPOINT s; UPDATE t SET a = 1"}, false},
		{"query, start fails", query, [][][]byte{{fail}}, fail,
			[]string{"\x03XA START 'x'; SAVEPOINT s; UPDATE t SET a = 1"}, true},
		{"execute", execute, [][][]byte{{okMore, ok}, {answer}}, answer,
			[]string{"\x03XA START 'x'; SAVEPOINT s", "\x17\x01\x00\x00\x00"}, false},
		{"execute, start fails", execute, [][][]byte{{fail}}, fail,
			[]string{"\x03XA START 'x'; SAVEPOINT s"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli, srv := net.Pipe()
			defer cli.Close()
			got := make(chan string, 4)
			fakeServer(srv, tc.answers, got)
			c := &Conn{Conn: wire.NewConn(cli)}
			c.ExecAhead("XA START 'x'", "SAVEPOINT s")
			if err := tc.send(c); err != nil {
				t.Fatal(err)
			}
			p, err := c.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			if string(p) != string(tc.want) {
				t.Fatalf("read %q, want %q", p, tc.want)
			}
			srv.Close()
			var sent []string
			for s := range got {
				sent = append(sent, s)
			}
			if len(sent) != len(tc.sent) {
				t.Fatalf("server read %q, want %q", sent, tc.sent)
			}
			for i := range sent {
				if sent[i] != tc.sent[i] {
					t.Fatalf("server read %q, want %q", sent, tc.sent)
				}
			}
			if c.Broken() != tc.broken {
				t.Fatalf("broken %v, want %v", c.Broken(), tc.broken)
			}
			if !tc.broken && c.Status != mysql.SERVER_STATUS_IN_TRANS {
				t.Fatalf("status %#x: the start's OK was not recorded", c.Status)
			}
		})
	}
}
