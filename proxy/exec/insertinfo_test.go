package exec

import (
	"testing"

	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
)

// The Records line of an INSERT split over shards adds up the shards'
// lines and reads a one-row shard's duplicates from its affected rows
// (what MariaDB answered in TestInsertInfo).
func TestInsertTotals(t *testing.T) {
	for _, c := range []struct {
		kind       router.InsertKind
		foundRows  bool
		oks        []wire.OK
		records    uint64
		duplicates uint64
		unknown    bool
	}{
		{router.InsertPlain, false, []wire.OK{{AffectedRows: 2, Info: []byte("Records: 2  Duplicates: 0  Warnings: 0")}, {AffectedRows: 1}}, 3, 0, false},
		{router.InsertIgnore, false, []wire.OK{{AffectedRows: 0}, {AffectedRows: 1}, {AffectedRows: 1, Info: []byte("Records: 2  Duplicates: 1  Warnings: 0")}}, 4, 2, false},
		{router.InsertReplace, false, []wire.OK{{AffectedRows: 2}, {AffectedRows: 1}, {AffectedRows: 3}}, 3, 3, false},
		{router.InsertUpsert, false, []wire.OK{{AffectedRows: 2}, {AffectedRows: 1}, {AffectedRows: 0}}, 3, 1, false},
		{router.InsertUpsert, true, []wire.OK{{AffectedRows: 2}, {AffectedRows: 1}}, 2, 1, true},
		{router.NotInsert, false, []wire.OK{{AffectedRows: 1}, {AffectedRows: 1}}, 0, 0, false},
	} {
		var w writeTotals
		for i := range c.oks {
			w.add(&c.oks[i], c.kind, c.foundRows)
		}
		if w.records != c.records || w.duplicates != c.duplicates || w.unknown != c.unknown {
			t.Errorf("%v (found rows %v): records %d duplicates %d unknown %v, want %d %d %v",
				c.kind, c.foundRows, w.records, w.duplicates, w.unknown, c.records, c.duplicates, c.unknown)
		}
	}
}
