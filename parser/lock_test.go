package parser

import (
	"reflect"
	"testing"
)

func TestParseLock(t *testing.T) {
	type lt = LockedTable
	cases := []struct {
		sql  string
		mode Mode
		bad  int // -1: no LOCK TABLES; >0: the offset of the first token not read
		want Lock
	}{
		{sql: "LOCK TABLES t READ", want: Lock{Tables: []lt{{Name: "t", Type: "READ"}}}},
		{sql: "lock table `a b`.`c``d` as x write, y read local, z AS `read` low_priority write;",
			want: Lock{Tables: []lt{{Schema: "a b", Name: "c`d", Alias: "x", Type: "WRITE", Write: true},
				{Name: "y", Type: "READ LOCAL"}, {Name: "z", Alias: "read", Type: "LOW_PRIORITY WRITE", Write: true}}}},
		// mariadb-dump's.
		{sql: "LOCK TABLES `orders` READ /*!32311 LOCAL */,`users` READ /*!32311 LOCAL */",
			want: Lock{Tables: []lt{{Name: "orders", Type: "READ LOCAL"}, {Name: "users", Type: "READ LOCAL"}}}},
		{sql: "LOCK TABLES t al WRITE CONCURRENT WAIT 5", want: Lock{Tables: []lt{{Name: "t", Alias: "al", Type: "WRITE CONCURRENT", Write: true}}, Tail: "WAIT 5"}},
		{sql: "LOCK TABLES t WRITE NOWAIT", want: Lock{Tables: []lt{{Name: "t", Type: "WRITE", Write: true}}, Tail: "NOWAIT"}},
		{sql: `LOCK TABLES "t" READ`, mode: ModeANSIQuotes, want: Lock{Tables: []lt{{Name: "t", Type: "READ"}}}},
		{sql: `LOCK TABLES "t" READ`, bad: 12},
		{sql: "LOCK TABLES t", bad: 13},
		{sql: "LOCK TABLES t READ,", bad: 19},
		{sql: "LOCK TABLES t LOW_PRIORITY READ", bad: 27},
		{sql: "LOCK TABLES t READ x", bad: 19},
		{sql: "LOCK TABLES t READ WAIT x", bad: 24},
		{sql: "UNLOCK TABLES", bad: -1},
		{sql: "LOCK INSTANCE FOR BACKUP", bad: -1},
	}
	for _, c := range cases {
		got, ok, bad := ParseLock(c.sql, c.mode)
		switch {
		case c.bad != 0 && (ok || bad != c.bad):
			t.Errorf("%q: got %+v %v at %d, want not read at %d", c.sql, got, ok, bad, c.bad)
		case c.bad == 0 && (!ok || !reflect.DeepEqual(got, c.want)):
			t.Errorf("%q: got %+v %v (%d), want %+v", c.sql, got, ok, bad, c.want)
		}
	}
}
