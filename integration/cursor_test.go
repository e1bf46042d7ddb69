//go:build integration

package integration

import (
	bin "encoding/binary"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// TestShardedCursor: a prepared SELECT executed with a read-only cursor,
// as libmariadb's STMT_ATTR_CURSOR_TYPE asks, is fetched in parts, in a
// sharded schema as in a pass-through one (the shard's statement has
// other names than the client's).
func TestShardedCursor(t *testing.T) {
	p := StartProxy(t, bankConfig("xa"))
	setupBank(t, Open(t, DSN("app", "app", p.Addr, "bank")))
	c, err := client.Connect(p.Addr, "app", "app", "bank")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, q := range []string{"SELECT id, balance FROM accounts WHERE id = 3", "SELECT id FROM accounts WHERE id IN (1, 3, 5, 7) ORDER BY id"} {
		st, err := c.Prepare(q)
		if err != nil {
			t.Fatalf("prepare %s: %v", q, err)
		}
		// COM_STMT_EXECUTE with CURSOR_TYPE_READ_ONLY, no parameters.
		exec := []byte{0, 0, 0, 0, mysql.COM_STMT_EXECUTE, 0, 0, 0, 0, mysql.CURSOR_TYPE_READ_ONLY, 1, 0, 0, 0}
		bin.LittleEndian.PutUint32(exec[5:], st.ID)
		c.ResetSequence()
		if err := c.WritePacket(exec); err != nil {
			t.Fatal(err)
		}
		read := func() []byte {
			t.Helper()
			b, err := c.ReadPacket()
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if b[0] == mysql.ERR_HEADER {
				t.Fatalf("%s: error packet %q", q, b[9:])
			}
			return b
		}
		n := int(read()[0])
		for i := 0; i < n; i++ {
			read() // column definitions
		}
		eof := read()
		status := bin.LittleEndian.Uint16(eof[3:])
		rows := 0
		if status&mysql.SERVER_STATUS_CURSOR_EXISTS == 0 {
			// No cursor opened (rows follow now): allowed to a server.
			for b := read(); b[0] != mysql.EOF_HEADER; b = read() {
				rows++
			}
		} else {
			for last := false; !last; {
				fetch := []byte{0, 0, 0, 0, mysql.COM_STMT_FETCH, 0, 0, 0, 0, 1, 0, 0, 0} // one row at a time
				bin.LittleEndian.PutUint32(fetch[5:], st.ID)
				c.ResetSequence()
				if err := c.WritePacket(fetch); err != nil {
					t.Fatal(err)
				}
				for b := read(); ; b = read() {
					if b[0] == mysql.EOF_HEADER && len(b) < 9 {
						last = bin.LittleEndian.Uint16(b[3:])&mysql.SERVER_STATUS_LAST_ROW_SEND != 0
						break
					}
					rows++
				}
			}
		}
		if want := map[bool]int{true: 1, false: 4}[len(q) < 50]; rows != want {
			t.Errorf("%s: %d rows through the cursor, want %d", q, rows, want)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Execute("SELECT 1"); err != nil {
			t.Fatalf("after %s: %v", q, err)
		}
	}
}
