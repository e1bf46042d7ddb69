package exec

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/router"
)

// TestMaintainedRows: the physical tables' rows → one server's rows for
// the client's table.
func TestMaintainedRows(t *testing.T) {
	row := func(vals ...string) [][]byte {
		out := make([][]byte, len(vals))
		for i, v := range vals {
			if v != "NULL" {
				out[i] = []byte(v)
			}
		}
		return out
	}
	ok := func(p string) [][]byte { return row(p, "check", "status", "OK") }
	tbl := router.MaintainedTable{Name: "shop.orders", Physical: []string{"s0.o_0", "s1.o_1"}}
	for _, c := range []struct {
		name     string
		checksum bool
		t        router.MaintainedTable
		answers  map[string][][][]byte
		want     string
	}{
		{"alike", false, tbl, map[string][][][]byte{"s0.o_0": {ok("s0.o_0")}, "s1.o_1": {ok("s1.o_1")}},
			"[[shop.orders check status OK]]"},
		{"one shard fails", false, tbl, map[string][][][]byte{"s0.o_0": {ok("s0.o_0")},
			"s1.o_1": {row("s1.o_1", "check", "Error", "Corrupt"), row("s1.o_1", "check", "status", "Operation failed")}},
			"[[shop.orders check Error Corrupt] [shop.orders check status Operation failed]]"},
		{"notes once", false, tbl, map[string][][][]byte{
			"s0.o_0": {row("s0.o_0", "check", "note", "N"), ok("s0.o_0")}, "s1.o_1": {row("s1.o_1", "check", "note", "N"), ok("s1.o_1")}},
			"[[shop.orders check note N] [shop.orders check status OK]]"},
		{"no answer", false, tbl, map[string][][][]byte{"s0.o_0": {ok("s0.o_0")}},
			"[[shop.orders check Error shardgate: no answer for s1.o_1]]"},
		{"missing", false, router.MaintainedTable{Name: "shop.x", Refusal: mysql.NewDefaultError(mysql.ER_NO_SUCH_TABLE, "shop", "x")}, nil,
			"[[shop.x check Error Table 'shop.x' doesn't exist] [shop.x check status Operation failed]]"},
		{"not locked", false, router.MaintainedTable{Name: "shop.x", Refusal: router.ErrNotLocked("x", "")}, nil,
			"[[shop.x check Error Table 'x' was not locked with LOCK TABLES] [shop.x check status Operation failed]]"},
		{"sum modulo 2^32", true, tbl, map[string][][][]byte{"s0.o_0": {row("s0.o_0", "4000000000")}, "s1.o_1": {row("s1.o_1", "500000000")}},
			"[[shop.orders 205032704]]"},
		{"NULL", true, tbl, map[string][][][]byte{"s0.o_0": {row("s0.o_0", "1")}, "s1.o_1": {row("s1.o_1", "NULL")}},
			"[[shop.orders NULL]]"},
		{"missing checksum", true, router.MaintainedTable{Name: "shop.x", Refusal: router.ErrNotLocked("x", "")}, nil, "[[shop.x NULL]]"},
	} {
		m := &router.Maintenance{Checksum: c.checksum, Op: "check"}
		got := maintainedRows(m, c.t, c.answers, nil)
		s := "["
		for i, r := range got {
			if i > 0 {
				s += " "
			}
			s += "["
			for j, v := range r {
				if j > 0 {
					s += " "
				}
				if v == nil {
					s += "NULL"
				} else {
					s += string(v)
				}
			}
			s += "]"
		}
		s += "]"
		if s != c.want {
			t.Errorf("%s: got %s, want %s", c.name, s, c.want)
		}
	}
}

// TestClientRow: a shard's row number in a message becomes the client's.
func TestClientRow(t *testing.T) {
	numbers := []int{3, 7, 9}
	for _, c := range []struct{ in, want string }{
		{"Data truncated for column 's' at row 2", "Data truncated for column 's' at row 7"},
		{"Row 3 doesn't contain data for all columns", "Row 9 doesn't contain data for all columns"},
		{"Row 1 was truncated; it contained more data than there were input columns", "Row 3 was truncated; it contained more data than there were input columns"},
		{"Duplicate entry '1' for key 'PRIMARY'", "Duplicate entry '1' for key 'PRIMARY'"},
		{"Data truncated for column 's' at row 4", "Data truncated for column 's' at row 4"}, // (beyond the numbers kept)
		{"Row x", "Row x"},
	} {
		if got := ClientRow(c.in, numbers); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}
