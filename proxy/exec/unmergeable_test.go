package exec

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/router/merge"
)

func TestUnmergeable(t *testing.T) {
	cases := []struct {
		f            merge.Field
		order, merge bool // refused for orders (and DISTINCT), for MIN/MAX
	}{
		{merge.Field{Name: "c", Type: mysql.MYSQL_TYPE_VAR_STRING}, false, false},
		{merge.Field{Name: "b", Type: mysql.MYSQL_TYPE_VAR_STRING, Flags: mysql.BINARY_FLAG}, false, false},
		{merge.Field{Name: "n", Type: mysql.MYSQL_TYPE_LONGLONG, Flags: mysql.UNSIGNED_FLAG}, false, false},
		{merge.Field{Name: "e", Type: mysql.MYSQL_TYPE_STRING, Flags: mysql.ENUM_FLAG}, true, false},
		{merge.Field{Name: "s", Type: mysql.MYSQL_TYPE_STRING, Flags: mysql.SET_FLAG}, true, false},
		{merge.Field{Name: "ip", Type: mysql.MYSQL_TYPE_STRING, Flags: mysql.BINARY_FLAG | mysql.UNSIGNED_FLAG}, true, true},
	}
	for _, c := range cases {
		if got := unmergeable(&c.f, true) != ""; got != c.order {
			t.Errorf("%s: refused for an order: %v, want %v", c.f.Name, got, c.order)
		}
		if got := unmergeable(&c.f, false) != ""; got != c.merge {
			t.Errorf("%s: refused for MIN/MAX: %v, want %v", c.f.Name, got, c.merge)
		}
	}
}
