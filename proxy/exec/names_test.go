package exec

import (
	"bytes"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
)

func def(schema, table, orgTable string) []byte {
	return wire.AppendColumnDef(nil, &wire.Column{Schema: schema, Table: table, OrgTable: orgTable, Name: "c", OrgName: "c",
		Charset: 45, Length: 480, Type: mysql.MYSQL_TYPE_VAR_STRING, Flags: 3, Decimals: 2})
}

func TestNamesColumnDef(t *testing.T) {
	n := NewNames(map[string]string{"shop_0": "shop", "plain": "plain", "cp_0": "cp"},
		map[[2]string]string{{"shop_0", "orders_1"}: "orders", {"shop_0", "items_0"}: "items", {"cp_0", "items_0"}: "lines"})
	cli := &Client{Names: n}
	for _, tc := range []struct{ in, want []byte }{
		{def("shop_0", "orders_1", "orders_1"), def("shop", "orders", "orders")},
		{def("shop_0", "o", "orders_1"), def("shop", "o", "orders")}, // an alias stays
		{def("plain", "t", "t"), def("plain", "t", "t")},
		{def("other", "orders_1", "orders_1"), def("other", "orders_1", "orders_1")},
		// a derived table's column names no database, only the table it came from
		{def("", "t", "orders_1"), def("", "t", "orders")},
		{def("", "t", "items_0"), def("", "t", "items_0")}, // two logical tables share the name
	} {
		got := cli.ColumnDef(tc.in)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	in := def("other", "x", "x")
	if got := cli.ColumnDef(in); &got[0] != &in[0] {
		t.Error("a definition naming nothing to rename is returned as it is")
	}
	in = def("shop_0", "orders_1", "orders_1")
	if a := testing.AllocsPerRun(100, func() { cli.ColumnDef(in) }); a != 0 {
		t.Errorf("renaming allocates %v times", a)
	}
}

func BenchmarkColumnDef(b *testing.B) {
	n := NewNames(map[string]string{"shop_0": "shop", "shop_1": "shop", "plain": "plain"},
		map[[2]string]string{{"shop_0", "sbtest1_0"}: "sbtest1", {"shop_1", "sbtest1_1"}: "sbtest1", {"shop_0", "orders_0"}: "orders"})
	cli := &Client{Names: n}
	in := def("shop_0", "sbtest1_0", "sbtest1_0")
	b.ReportAllocs()
	for b.Loop() {
		cli.ColumnDef(in)
	}
}

func TestNamesMessage(t *testing.T) {
	n := NewNames(map[string]string{"shop_0": "shop"}, map[[2]string]string{{"shop_0", "orders_1"}: "orders"})
	for msg, want := range map[string]string{
		"Table 'shop_0.orders_1' doesn't exist":  "Table 'shop.orders' doesn't exist",
		"PROCEDURE shop_0.nosuch does not exist": "PROCEDURE shop.nosuch does not exist",
		"Unknown database 'shop_0'":              "Unknown database 'shop'",
		"Unknown column 'x' in 'field list'":     "Unknown column 'x' in 'field list'",
	} {
		if got := n.Message(msg); got != want {
			t.Errorf("Message(%q) = %q, want %q", msg, got, want)
		}
	}
}
