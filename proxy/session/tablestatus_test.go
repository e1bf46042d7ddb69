package session

import (
	"strings"
	"testing"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
)

// TestCombineTableStatus: a sharded table's SHOW TABLE STATUS row adds up
// its shards' counts and sizes, and keeps the rest of the first shard's.
func TestCombineTableStatus(t *testing.T) {
	names := strings.Fields("Name Engine Rows Avg_row_length Data_length Index_length Data_free Auto_increment Create_time Update_time Check_time Checksum Comment")
	var defs [][]byte
	for _, n := range names {
		defs = append(defs, wire.AppendColumnDef(nil, &wire.Column{Name: n}))
	}
	row := func(vals ...string) [][]byte {
		r := make([][]byte, len(vals))
		for i, v := range vals {
			if v != "NULL" {
				r[i] = []byte(v)
			}
		}
		return r
	}
	rows := [][][]byte{
		row("t_0", "InnoDB", "10", "1638", "16384", "0", "0", "NULL", "2026-01-02 00:00:00", "NULL", "NULL", "12", "first"),
		row("t_1", "InnoDB", "30", "546", "16384", "16384", "4194304", "NULL", "2026-01-01 00:00:00", "2026-03-01 10:00:00", "NULL", "7", "second"),
		row("t_2", "InnoDB", "0", "0", "16384", "0", "0", "NULL", "2026-01-03 00:00:00", "2026-02-01 10:00:00", "NULL", "NULL", "third"),
	}
	got := combineTableStatus(defs, rows)
	want := row("t_0", "InnoDB", "40", "1228", "49152", "16384", "4194304", "NULL", "2026-01-01 00:00:00", "2026-03-01 10:00:00", "NULL", "NULL", "first")
	for i, n := range names {
		if string(got[i]) != string(want[i]) || (got[i] == nil) != (want[i] == nil) {
			t.Errorf("%s: %q, want %q", n, got[i], want[i])
		}
	}
	// AUTO_INCREMENT: the highest; live checksums: added modulo 2^32.
	rows[0][7], rows[1][7], rows[2][7] = []byte("15"), []byte("31"), []byte("9")
	rows[2][11] = []byte("4294967290")
	got = combineTableStatus(defs, rows)
	if string(got[7]) != "31" || string(got[11]) != "13" {
		t.Errorf("Auto_increment %q, Checksum %q; want 31, 13", got[7], got[11])
	}
}

// TestTablesStandIn: on a node holding a sharded table's first shard,
// information_schema.TABLES is read through a query that puts the table's
// combined statistics in that shard's row, each as a value of its
// column's type, and leaves every other column and row as they are.
func TestTablesStandIn(t *testing.T) {
	st := &tableStats{
		columns: strings.Fields("Name Rows Update_time Auto_increment"),
		casts:   []string{"", "UNSIGNED", "DATETIME", "UNSIGNED"},
		rows: map[[2]string][][]byte{
			{"dn0", "orders_0"}: {[]byte("orders_0"), []byte("2147"), []byte("2026-11-29 11:49:08"), nil},
			{"dn1", "users_1"}:  {[]byte("users_1"), []byte("3"), nil, nil},
		},
	}
	dn0 := &backend.DataNode{Name: "dn0", Database: "shop_0"}
	cols := []string{"TABLE_SCHEMA", "TABLE_NAME", "TABLE_ROWS", "UPDATE_TIME", "AUTO_INCREMENT", "MAX_DATA_LENGTH"}
	want := "SELECT `TABLE_SCHEMA`, `TABLE_NAME`, " +
		"CASE `TABLE_NAME` WHEN 'orders_0' THEN CAST('2147' AS UNSIGNED) ELSE `TABLE_ROWS` END AS `TABLE_ROWS`, " +
		"CASE `TABLE_NAME` WHEN 'orders_0' THEN CAST('2026-11-29 11:49:08' AS DATETIME) ELSE `UPDATE_TIME` END AS `UPDATE_TIME`, " +
		"CASE `TABLE_NAME` WHEN 'orders_0' THEN CAST(NULL AS UNSIGNED) ELSE `AUTO_INCREMENT` END AS `AUTO_INCREMENT`, " +
		"`MAX_DATA_LENGTH` FROM information_schema.`TABLES` WHERE `TABLE_SCHEMA` = 'shop_0'"
	if got, err := st.standIn(dn0, cols, 0); err != nil || got != want {
		t.Errorf("stand-in on dn0:\n got %s\nwant %s", got, want)
	}
	if got, err := st.standIn(&backend.DataNode{Name: "dn2", Database: "shop_2"}, cols, 0); err != nil || got != "" {
		t.Errorf("a node holding no first shard reads TABLES itself; got %s", got)
	}
}
