//go:build !race

package session

import (
	"testing"
)

// The allocation budget of the hot path (performance issue #7): a point
// select allocates at most 10 times, a relayed row not at all. (Not under
// the race detector, which allocates on its own.)

const pointSelectBudget = 10

func TestPointSelectAllocs(t *testing.T) {
	for _, schema := range []string{"shop", "plain"} {
		p := newBenchProxy(t, schema, benchClientCaps)
		id := int64(1000)
		stmt := p.prepare(t, "SELECT c FROM sbtest1 WHERE id=?")
		for _, c := range []struct {
			name string
			send func()
		}{
			{"point select", func() { p.query(t, pointSelect, id) }},
			{"prepared point select", func() { p.execute(t, stmt, id) }},
		} {
			run := func() {
				id++
				c.send()
				if n := p.rows(t); n != 1 {
					t.Fatalf("%d rows", n)
				}
			}
			run()
			if a := testing.AllocsPerRun(500, run); a > pointSelectBudget {
				t.Errorf("%s: %s: %v allocations, budget %d", schema, c.name, a, pointSelectBudget)
			}
		}
	}
}

func TestRelayRowsAllocs(t *testing.T) {
	for _, rc := range relayCases {
		p := newBenchProxy(t, rc.schema, benchClientCaps)
		allocs := func(rows int) float64 {
			p.setRows(rows)
			id := int64(1000)
			query := func() {
				id++
				p.query(t, rc.query, id)
				if n := p.rows(t); n != rows*rc.shards {
					t.Fatalf("%d rows", n)
				}
			}
			query()
			return testing.AllocsPerRun(200, query)
		}
		few, many := allocs(10), allocs(1000)
		t.Logf("%s: %v allocations for 10 rows a shard, %v for 1000", rc.name, few, many)
		if many > few {
			t.Errorf("%s: %v allocations for 10 rows a shard, %v for 1000: rows allocate", rc.name, few, many)
		}
	}
}
