package admin

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/shardrules"
)

// CHECK GLOBAL TABLE compares a global table's copies with CHECKSUM TABLE
// and COUNT(*); CHECK TABLE STRUCTURE compares the physical tables'
// SHOW CREATE TABLE, physical names and AUTO_INCREMENT counters
// normalized. Both return one row per physical table; status "ok" only when
// it matches the others.

func (c *Console) check(t *tokens) (*result, error) {
	switch {
	case t.accept("GLOBAL", "TABLE"):
		return c.checkGlobal(t)
	case t.accept("TABLE", "STRUCTURE"):
		return c.checkStructure(t)
	}
	return nil, t.errorf("CHECK GLOBAL TABLE t or CHECK TABLE STRUCTURE t expected")
}

func (c *Console) checkGlobal(t *tokens) (*result, error) {
	snap, schema, rule, err := c.lookupTable(t)
	if err != nil {
		return nil, err
	}
	if rule.Kind != shardrules.Global {
		return nil, errf("%s.%s is a %s table, not a global one", schema, rule.Name, rule.Kind)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	type copyInfo struct {
		sum, count string
		err        error
	}
	ps := rule.AllPlacements()
	copies := make([]copyInfo, len(ps))
	votes := map[string]int{}
	for i, p := range ps {
		dn := snap.Cluster.Nodes[p.Node]
		ci := &copies[i]
		ci.err = onNode(ctx, dn, func(cn *backend.Conn) error {
			if err := cn.Query("CHECKSUM TABLE "+backend.QuoteIdent(p.Table), func(_ []wire.ColumnRef, v [][]byte) error {
				if v[1] == nil {
					return fmt.Errorf("table %s.%s does not exist", dn.Database, p.Table)
				}
				ci.sum = string(v[1])
				return nil
			}, nil); err != nil {
				return err
			}
			return cn.Query("SELECT COUNT(*) FROM "+backend.QuoteIdent(p.Table), func(_ []wire.ColumnRef, v [][]byte) error {
				ci.count = string(v[0])
				return nil
			}, nil)
		})
		if ci.err == nil {
			votes[ci.sum+"/"+ci.count]++
		}
	}
	best, bestVotes := "", 0
	for k, n := range votes {
		if n > bestVotes || n == bestVotes && k < best {
			best, bestVotes = k, n
		}
	}
	r := &result{cols: cols("schema", "table", "data_node", "database", "rows", "checksum", "status")}
	for i, p := range ps {
		dn := snap.Cluster.Nodes[p.Node]
		ci := copies[i]
		status := "ok"
		switch {
		case ci.err != nil:
			status = "error: " + ci.err.Error()
		case len(votes) > 1 && 2*bestVotes <= len(ps):
			status = "differs (no majority)"
		case len(votes) > 1 && ci.sum+"/"+ci.count != best:
			status = "differs"
		case len(votes) > 1:
			status = "ok (majority)"
		}
		r.rows = append(r.rows, []any{schema, rule.Name, p.Node, dn.Database, nilIf(ci.count), nilIf(ci.sum), status})
	}
	return r, nil
}

var autoIncrement = regexp.MustCompile(` AUTO_INCREMENT=\d+`)

// normalizeDDL makes a physical table's CREATE TABLE comparable: the
// physical names it contains (its own, a parent's it references, and
// names derived from them such as constraint names) become logical ones,
// the AUTO_INCREMENT counter goes.
func normalizeDDL(ddl string, names map[string]string) string {
	ddl = autoIncrement.ReplaceAllString(ddl, "")
	for phys, logical := range names {
		if phys != logical {
			ddl = regexp.MustCompile(`\b`+regexp.QuoteMeta(phys)+`(\b|_)`).ReplaceAllString(ddl, logical+"${1}")
		}
	}
	return ddl
}

func (c *Console) checkStructure(t *tokens) (*result, error) {
	snap, schema, rule, err := c.lookupTable(t)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ps := rule.AllPlacements()
	ddls := make([]string, len(ps))
	errs := make([]error, len(ps))
	votes := map[string]int{}
	rules := snap.Rules[schema]
	for i, p := range ps {
		ddl, err := showCreate(ctx, snap, p)
		if err != nil {
			errs[i] = err
			continue
		}
		names := map[string]string{p.Table: rule.Name}
		if rule.Kind == shardrules.Sharded || rule.Kind == shardrules.Child {
			// Shard i of its family: parents' and children's shards i.
			for _, o := range rules.Tables {
				if (o.Kind == shardrules.Sharded || o.Kind == shardrules.Child) && o.Root == rule.Root {
					names[o.Shard(i).Table] = o.Name
				}
			}
		}
		ddls[i] = normalizeDDL(ddl, names)
		votes[ddls[i]]++
	}
	best, bestVotes := "", 0
	for k, n := range votes {
		if n > bestVotes || n == bestVotes && k < best {
			best, bestVotes = k, n
		}
	}
	r := &result{cols: cols("schema", "table", "shard", "data_node", "database", "physical_table", "status", "difference")}
	for i, p := range ps {
		dn := snap.Cluster.Nodes[p.Node]
		status, diff := "ok", any(nil)
		switch {
		case errs[i] != nil:
			status = "error: " + errs[i].Error()
		case len(votes) > 1 && 2*bestVotes <= len(ps):
			status = "differs (no majority)"
			if ddls[i] != best {
				diff = lineDiff(best, ddls[i])
			}
		case ddls[i] != best:
			status, diff = "differs", lineDiff(best, ddls[i])
		}
		var shard any
		if rule.Kind == shardrules.Sharded || rule.Kind == shardrules.Child {
			shard = fmt.Sprint(i)
		}
		r.rows = append(r.rows, []any{schema, rule.Name, shard, p.Node, dn.Database, p.Table, status, diff})
	}
	return r, nil
}

// lineDiff lists the lines of got missing from want (-) and added (+).
func lineDiff(want, got string) string {
	in := func(lines []string, l string) bool {
		for _, x := range lines {
			if x == l {
				return true
			}
		}
		return false
	}
	trim := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(l), ","))
		}
		return out
	}
	w, g := trim(want), trim(got)
	var out []string
	for _, l := range w {
		if !in(g, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range g {
		if !in(w, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "; ")
}
