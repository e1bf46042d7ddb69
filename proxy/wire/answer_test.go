package wire

import (
	"net"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestAnswer(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := NewConn(a)

	c.StartAnswer()
	c.WritePacket(AppendOK(nil, OKHeader, &OK{AffectedRows: 300}, false))
	if code, rows := c.Answer(true); code != 0 || rows != 300 {
		t.Errorf("OK: %d %d", code, rows)
	}

	c.StartAnswer()
	c.WritePacket(AppendErr(nil, mysql.NewDefaultError(mysql.ER_NO_SUCH_TABLE, "s", "t")))
	if code, rows := c.Answer(true); code != mysql.ER_NO_SUCH_TABLE || rows != 0 {
		t.Errorf("ERR: %d %d", code, rows)
	}

	for _, eof := range []bool{true, false} {
		c.StartAnswer()
		c.WritePacket([]byte{2})
		c.WritePacket(AppendColumnDef(nil, &Column{Name: "a"}))
		c.WritePacket(AppendColumnDef(nil, &Column{Name: "b"}))
		if eof {
			c.WritePacket(AppendEOF(nil, 0, 0))
		}
		for i := 0; i < 3; i++ {
			c.WritePacket([]byte{1, 'x', 1, 'y'})
		}
		c.WritePacket(AppendEOF(nil, 0, 0))
		if code, rows := c.Answer(eof); code != 0 || rows != 3 {
			t.Errorf("result set (eof %v): %d %d", eof, code, rows)
		}
	}
	c.DiscardOutput()
}
