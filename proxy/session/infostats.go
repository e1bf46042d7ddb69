package session

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/shardrules"
)

// information_schema.TABLES describes a sharded table by the row of its
// first shard. Its statistics (rows, sizes, times) are the whole table's
// only when its shards' are added up first, as SHOW TABLE STATUS does:
// each node's TABLES is then read through a derived table that puts the
// sums in that row, so the client's conditions, order and expressions
// see them.

// statusOfTables names the SHOW TABLE STATUS column each statistics
// column of information_schema.TABLES shows.
var statusOfTables = map[string]string{
	"TABLE_ROWS": "Rows", "AVG_ROW_LENGTH": "Avg_row_length", "DATA_LENGTH": "Data_length",
	"INDEX_LENGTH": "Index_length", "DATA_FREE": "Data_free", "AUTO_INCREMENT": "Auto_increment",
	"CREATE_TIME": "Create_time", "UPDATE_TIME": "Update_time", "CHECK_TIME": "Check_time",
	"CHECKSUM": "Checksum",
}

// tableStats are the sharded tables' statistics, their shards' combined.
type tableStats struct {
	columns []string               // SHOW TABLE STATUS's column names
	casts   []string               // and the CAST types that keep their values' types
	rows    map[[2]string][][]byte // node, first shard → the combined row
}

// shardedStats reads the statistics of the user's tables of more than
// one shard (combinedStatus: one SHOW TABLE STATUS per node holding
// shards).
func (s *Session) shardedStats(snap *snapshot.Snapshot) (*tableStats, error) {
	var groups [][]shardrules.Placement
	for _, name := range s.user.Schemas {
		rules := snap.Rules[name]
		if rules == nil {
			continue
		}
		for _, t := range rules.Tables {
			if ps := t.AllPlacements(); (t.Kind == shardrules.Sharded || t.Kind == shardrules.Child) && len(ps) > 1 {
				groups = append(groups, ps)
			}
		}
	}
	defs, rows, err := s.combinedStatus(snap, groups)
	if err != nil {
		return nil, err
	}
	st := &tableStats{rows: map[[2]string][][]byte{}}
	for _, d := range defs {
		c, err := wire.ParseColumnDef(d)
		if err != nil {
			return nil, err
		}
		st.columns, st.casts = append(st.columns, string(c.Name)), append(st.casts, castFor(c.Type, c.Flags))
	}
	for i, g := range groups {
		if rows[i] != nil {
			st.rows[[2]string{g[0].Node, g[0].Table}] = rows[i]
		}
	}
	return st, nil
}

// standIn is the query that stands in for information_schema.TABLES on dn
// (cols: its columns there): dn's database's rows, those of the first
// shards there with their tables' statistics. "" when dn holds none.
func (st *tableStats) standIn(dn *backend.DataNode, cols []string, mode parser.Mode) (string, error) {
	var firsts []string
	for k := range st.rows {
		if k[0] == dn.Name {
			firsts = append(firsts, k[1])
		}
	}
	if len(firsts) == 0 {
		return "", nil
	}
	slices.Sort(firsts)
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		q := backend.QuoteIdent(c)
		at := slices.Index(st.columns, statusOfTables[strings.ToUpper(c)])
		if at < 0 {
			b.WriteString(q)
			continue
		}
		b.WriteString("CASE `TABLE_NAME`")
		for _, f := range firsts {
			lit, err := typedLiteral(st.rows[[2]string{dn.Name, f}][at], st.casts[at], mode)
			if err != nil {
				return "", err
			}
			b.WriteString(" WHEN " + backend.QuoteString(f) + " THEN " + lit)
		}
		b.WriteString(" ELSE " + q + " END AS " + q)
	}
	b.WriteString(" FROM information_schema.`TABLES` WHERE `TABLE_SCHEMA` = " + backend.QuoteString(dn.Database))
	return b.String(), nil
}

// readsTables reports a statement reading information_schema.TABLES.
func readsTables(stmt ast.Node) bool {
	return len(tablesSources(stmt)) > 0
}

// tablesSources are the sources of a statement (over information_schema
// alone) that read TABLES.
func tablesSources(stmt ast.Node) []*ast.TableSource {
	f := &virtualFinder{session: "information_schema", filter: true}
	stmt.Accept(f)
	var out []*ast.TableSource
	for _, ts := range f.filtered {
		if strings.EqualFold(ts.Source.(*ast.TableName).Name.O, "TABLES") {
			out = append(out, ts)
		}
	}
	return out
}
