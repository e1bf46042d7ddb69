package parser

import (
	"reflect"
	"testing"
)

func TestParseMaintenance(t *testing.T) {
	type tb = MaintenanceTable
	cases := []struct {
		sql  string
		mode Mode
		ok   bool
		want Maintenance
	}{
		{sql: "CHECK TABLE orders", ok: true, want: Maintenance{Verb: "CHECK", Head: "CHECK TABLE", Tables: []tb{{"", "orders"}}}},
		{sql: "check tables a, shop.b , `x y`.`z``w` EXTENDED;", ok: true,
			want: Maintenance{Verb: "CHECK", Head: "check tables", Tail: "EXTENDED", Tables: []tb{{"", "a"}, {"shop", "b"}, {"x y", "z`w"}}}},
		{sql: "OPTIMIZE NO_WRITE_TO_BINLOG TABLE t WAIT 2", ok: true,
			want: Maintenance{Verb: "OPTIMIZE", Head: "OPTIMIZE NO_WRITE_TO_BINLOG TABLE", Tail: "WAIT 2", Tables: []tb{{"", "t"}}}},
		{sql: "/* c */ ANALYZE LOCAL TABLE t PERSISTENT FOR COLUMNS (a, b) INDEXES ()", ok: true,
			want: Maintenance{Verb: "ANALYZE", Head: "/* c */ ANALYZE LOCAL TABLE", Tail: "PERSISTENT FOR COLUMNS (a, b) INDEXES ()", Tables: []tb{{"", "t"}}}},
		{sql: "CHECKSUM TABLE t1, t2 QUICK", ok: true,
			want: Maintenance{Verb: "CHECKSUM", Head: "CHECKSUM TABLE", Tail: "QUICK", Tables: []tb{{"", "t1"}, {"", "t2"}}}},
		{sql: "REPAIR TABLE t USE_FRM", ok: true, want: Maintenance{Verb: "REPAIR", Head: "REPAIR TABLE", Tail: "USE_FRM", Tables: []tb{{"", "t"}}}},
		{sql: `CHECK TABLE "t"`, mode: ModeANSIQuotes, ok: true, want: Maintenance{Verb: "CHECK", Head: "CHECK TABLE", Tables: []tb{{"", "t"}}}},
		{sql: `CHECK TABLE "t"`},
		{sql: "CHECK LOCAL TABLE t"}, // only the writing ones take it
		{sql: "ANALYZE SELECT 1"},
		{sql: "ANALYZE FORMAT=JSON SELECT 1"},
		{sql: "CHECK VIEW v"},
		{sql: "CHECK TABLE"},
		{sql: "CHECK TABLE a.b.c"},
		{sql: "CHECK TABLE t,"},
		{sql: "SELECT 1"},
	}
	for _, c := range cases {
		got, ok := ParseMaintenance(c.sql, c.mode)
		if ok != c.ok || ok && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v %v, want %+v %v", c.sql, got, ok, c.want, c.ok)
		}
	}
}
