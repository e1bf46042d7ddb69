package session

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/shardrules"
)

// Metadata statements about logical tables answer as one MySQL would:
// with logical names, one row per logical table, whatever the shards.

func contextBackground() context.Context { return context.Background() }

// metadataStmt recognizes SHOW and DESCRIBE statements about tables.
func metadataStmt(stmt ast.StmtNode) (*ast.ShowStmt, bool) {
	switch x := stmt.(type) {
	case *ast.ShowStmt:
		switch x.Tp {
		case ast.ShowTables, ast.ShowCreateTable, ast.ShowColumns, ast.ShowIndex, ast.ShowTableStatus, ast.ShowCreateDatabase, ast.ShowTriggers:
			return x, true
		}
	case *ast.ExplainStmt:
		if sh, ok := x.Stmt.(*ast.ShowStmt); ok && sh.Tp == ast.ShowColumns {
			return sh, true
		}
	}
	return nil, false
}

// metadata answers a SHOW about the sharded schema.
func (s *Session) metadata(stmt ast.StmtNode, sh *ast.ShowStmt, snap *snapshot.Snapshot) error {
	schema := s.schema
	if sh.DBName != "" {
		schema = sh.DBName
	}
	if sh.Table != nil && sh.Table.Schema.O != "" {
		schema = sh.Table.Schema.O
	}
	if schema == "" {
		return s.writeErr(mysql.NewDefaultError(mysql.ER_NO_DB_ERROR))
	}
	rules := snap.Rules[schema]
	if rules == nil {
		return s.writeErr(mysql.NewDefaultError(mysql.ER_BAD_DB_ERROR, schema))
	}
	if !snapshot.CanUse(s.user, schema) {
		return s.writeErr(mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, s.user.Name, s.host, schema))
	}
	switch sh.Tp {
	case ast.ShowTables:
		return s.showTables(sh, schema, rules, snap)
	case ast.ShowTableStatus:
		return s.showTableStatus(sh, rules, snap)
	case ast.ShowCreateDatabase:
		return s.showCreateDatabase(stmt, sh, schema, snap)
	case ast.ShowTriggers:
		return s.showTriggers(stmt, sh, schema, rules, snap)
	}
	rule := rules.Lookup(sh.Table.Name.O)
	if rule == nil {
		return s.writeErr(mysql.NewDefaultError(mysql.ER_NO_SUCH_TABLE, schema, sh.Table.Name.O))
	}
	p := rule.AllPlacements()[0]
	dn := snap.Cluster.Nodes[p.Node]
	// The same statement about the first physical table, names mapped back.
	sh.Table.Schema = ast.NewCIStr(dn.Database)
	sh.Table.Name = ast.NewCIStr(p.Table)
	sh.DBName = ""
	phys, err := parser.Restore([]ast.StmtNode{stmt})
	if err != nil {
		return s.writeErr(unsupported("this SHOW statement: " + err.Error()))
	}
	names := physicalNames(rules, dn.Database, snap)
	res, err := s.nodeQuery(dn, phys)
	if err != nil {
		return s.handleExecErr(err)
	}
	for _, row := range res.rows {
		for i := range row {
			if row[i] == nil {
				continue
			}
			switch {
			case sh.Tp == ast.ShowCreateTable && i == 1:
				row[i] = []byte(logicalDDL(string(row[i]), names))
			case i == 0 && (sh.Tp == ast.ShowCreateTable || sh.Tp == ast.ShowIndex || sh.Tp == ast.ShowTableStatus):
				if l, ok := names[string(row[i])]; ok {
					row[i] = []byte(l)
				}
			}
		}
	}
	res.write(s)
	return s.flush()
}

// showCreateDatabase answers with the CREATE DATABASE of the schema's
// default (else first) node's database, named as the schema: its
// character set and collation are the ones new tables get.
func (s *Session) showCreateDatabase(stmt ast.StmtNode, sh *ast.ShowStmt, schema string, snap *snapshot.Snapshot) error {
	dn := schemaNode(snap, schema)
	res, err := s.showOnNode(stmt, sh, dn)
	if err != nil {
		return s.handleExecErr(err)
	}
	for _, row := range res.rows {
		if len(row) == 2 && row[1] != nil {
			row[0] = []byte(schema)
			row[1] = []byte(strings.Replace(string(row[1]), backend.QuoteIdent(dn.Database), backend.QuoteIdent(schema), 1))
		}
	}
	res.write(s)
	return s.flush()
}

// showTriggers answers SHOW TRIGGERS with the schema's default (else
// first) node's triggers, their tables named logically. (CREATE TRIGGER
// does not go through the proxy's parser: what there is, a DBA made on
// the node.)
func (s *Session) showTriggers(stmt ast.StmtNode, sh *ast.ShowStmt, schema string, rules *shardrules.SchemaRules, snap *snapshot.Snapshot) error {
	dn := schemaNode(snap, schema)
	res, err := s.showOnNode(stmt, sh, dn)
	if err != nil {
		return s.handleExecErr(err)
	}
	names := physicalNames(rules, dn.Database, snap)
	for _, row := range res.rows {
		if len(row) > 2 && row[2] != nil {
			if l, ok := names[string(row[2])]; ok {
				row[2] = []byte(l)
			}
		}
	}
	res.write(s)
	return s.flush()
}

// showOnNode runs a SHOW about a database on the node's database and
// reads its answer.
func (s *Session) showOnNode(stmt ast.StmtNode, sh *ast.ShowStmt, dn *backend.DataNode) (*nodeResult, error) {
	if dn == nil {
		return nil, mysql.NewDefaultError(mysql.ER_BAD_DB_ERROR, sh.DBName) // a schema without nodes
	}
	sh.DBName = dn.Database
	phys, err := parser.Restore([]ast.StmtNode{stmt})
	if err != nil {
		return nil, unsupported("this SHOW statement: " + err.Error())
	}
	return s.nodeQuery(dn, phys)
}

// physicalNames maps the physical tables on one database back to their
// logical names.
func physicalNames(rules *shardrules.SchemaRules, db string, snap *snapshot.Snapshot) map[string]string {
	out := map[string]string{}
	for _, r := range rules.Tables {
		for _, p := range r.AllPlacements() {
			if n := snap.Cluster.Nodes[p.Node]; n != nil && n.Database == db {
				out[p.Table] = r.Name
			}
		}
	}
	return out
}

// logicalDDL rewrites backquoted physical table names in a CREATE TABLE text.
func logicalDDL(ddl string, names map[string]string) string {
	for phys, logical := range names {
		if phys != logical {
			ddl = strings.ReplaceAll(ddl, "`"+phys+"`", "`"+logical+"`")
		}
	}
	return ddl
}

// logicalTable is a table as the client sees it, and where its first
// physical table is.
type logicalTable struct {
	name, typ string
	node      string
	phys      string
	// shards are a sharded table's physical tables (the first is node,
	// phys); nil for a table of one node or copied to each.
	shards []shardrules.Placement
}

// logicalTables lists the logical tables that exist: the rules' tables
// whose first physical table exists, and the default node's own tables
// that are not a rule's physical table. Sorted by name.
func (s *Session) logicalTables(rules *shardrules.SchemaRules, snap *snapshot.Snapshot) ([]logicalTable, error) {
	exists := map[[2]string]string{} // node, table -> type
	for _, node := range rules.Nodes {
		dn := snap.Cluster.Nodes[node]
		res, err := s.nodeQuery(dn, "SHOW FULL TABLES FROM "+backend.QuoteIdent(dn.Database))
		if err != nil {
			return nil, err
		}
		for _, row := range res.rows {
			exists[[2]string{node, string(row[0])}] = string(row[1])
		}
	}
	physical := map[[2]string]bool{}
	var list []logicalTable
	for _, r := range rules.Tables {
		ps := r.AllPlacements()
		for _, p := range ps {
			physical[[2]string{p.Node, p.Table}] = true
		}
		if typ, ok := exists[[2]string{ps[0].Node, ps[0].Table}]; ok {
			e := logicalTable{name: r.Name, typ: typ, node: ps[0].Node, phys: ps[0].Table}
			if r.Kind == shardrules.Sharded || r.Kind == shardrules.Child {
				e.shards = ps
			}
			list = append(list, e)
		}
	}
	if rules.DefaultNode != "" {
		for k, typ := range exists {
			if k[0] == rules.DefaultNode && !physical[k] {
				list = append(list, logicalTable{name: k[1], typ: typ, node: k[0], phys: k[1]})
			}
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	return list, nil
}

func showPattern(sh *ast.ShowStmt) string {
	if sh.Pattern != nil {
		if v, ok := sh.Pattern.Pattern.(ast.ValueExpr); ok {
			p, _ := v.GetValue().(string)
			return p
		}
	}
	return ""
}

// showTables answers SHOW [FULL] TABLES with the logical tables.
func (s *Session) showTables(sh *ast.ShowStmt, schema string, rules *shardrules.SchemaRules, snap *snapshot.Snapshot) error {
	list, err := s.logicalTables(rules, snap)
	if err != nil {
		return s.handleExecErr(err)
	}
	pattern := showPattern(sh)
	colName := "Tables_in_" + schema
	if pattern != "" {
		colName += " (" + pattern + ")"
	}
	cols := []wire.Column{exec.TextColumn(colName)}
	cols[0].Schema, cols[0].Table, cols[0].OrgTable, cols[0].OrgName = "information_schema", "TABLE_NAMES", "TABLE_NAMES", "TABLE_NAME"
	if sh.Full {
		t := exec.TextColumn("Table_type")
		t.Schema, t.Table, t.OrgTable, t.OrgName = "information_schema", "TABLE_NAMES", "TABLE_NAMES", "TABLE_TYPE"
		cols = append(cols, t)
	}
	var rows [][]any
	for _, e := range list {
		if pattern != "" && !parser.Like(strings.ToLower(e.name), strings.ToLower(pattern)) {
			continue
		}
		row := []any{e.name}
		if sh.Full {
			row = append(row, e.typ)
		}
		rows = append(rows, row)
	}
	if sh.Where != nil {
		names := []string{colName, "Table_type"}[:len(cols)]
		text := make([][][]byte, len(rows))
		for i, r := range rows {
			for _, v := range r {
				text[i] = append(text[i], []byte(v.(string)))
			}
		}
		kept, err := s.rowsWhere(snap.Cluster.Nodes[rules.Nodes[0]], names, make([]string, len(names)), text, sh.Where)
		if err != nil {
			return s.handleExecErr(err)
		}
		rows = keepRows(rows, kept)
	}
	exec.WriteResultStatus(&s.cli, cols, rows, s.ClientStatus())
	return s.flush()
}

// showTableStatus answers SHOW TABLE STATUS with one row per logical
// table: a sharded one's shards' rows combined (combineTableStatus), any
// other's from its (first) physical table.
func (s *Session) showTableStatus(sh *ast.ShowStmt, rules *shardrules.SchemaRules, snap *snapshot.Snapshot) error {
	list, err := s.logicalTables(rules, snap)
	if err != nil {
		return s.handleExecErr(err)
	}
	pattern := strings.ToLower(showPattern(sh))
	var shown []logicalTable
	var groups [][]shardrules.Placement
	for _, e := range list {
		if pattern != "" && !parser.Like(strings.ToLower(e.name), pattern) {
			continue
		}
		g := e.shards
		if g == nil {
			g = []shardrules.Placement{{Node: e.node, Table: e.phys}}
		}
		shown, groups = append(shown, e), append(groups, g)
	}
	defs, rows, err := s.combinedStatus(snap, groups)
	if err != nil {
		return s.handleExecErr(err)
	}
	out := &nodeResult{defs: defs}
	for i, r := range rows {
		if r != nil {
			r[0] = []byte(shown[i].name)
			out.rows = append(out.rows, r)
		}
	}
	if defs == nil {
		// No table: the column definitions still come from a server.
		dn := snap.Cluster.Nodes[rules.Nodes[0]]
		if out, err = s.nodeQuery(dn, "SHOW TABLE STATUS FROM "+backend.QuoteIdent(dn.Database)+" LIKE ''"); err != nil {
			return s.handleExecErr(err)
		}
	}
	if sh.Where != nil {
		names, casts := make([]string, len(out.defs)), make([]string, len(out.defs))
		for i, d := range out.defs {
			c, err := wire.ParseColumnDef(d)
			if err != nil {
				return s.handleExecErr(err)
			}
			names[i], casts[i] = string(c.Name), castFor(c.Type, c.Flags)
		}
		kept, err := s.rowsWhere(snap.Cluster.Nodes[rules.Nodes[0]], names, casts, out.rows, sh.Where)
		if err != nil {
			return s.handleExecErr(err)
		}
		out.rows = keepRows(out.rows, kept)
	}
	out.write(s)
	return s.flush()
}

// combinedStatus is the SHOW TABLE STATUS row of each table whose
// physical tables are groups[i]: a sharded table's shards' rows combined
// (combineTableStatus), nil where none of them exists. It asks each node
// once, for all its tables; defs are the columns (nil: no node asked).
func (s *Session) combinedStatus(snap *snapshot.Snapshot, groups [][]shardrules.Placement) (defs [][]byte, rows [][][]byte, err error) {
	var nodes []string
	onNode := map[string][]string{}
	for _, g := range groups {
		for _, p := range g {
			if _, seen := onNode[p.Node]; !seen {
				nodes = append(nodes, p.Node)
			}
			onNode[p.Node] = append(onNode[p.Node], p.Table)
		}
	}
	got := map[[2]string][][]byte{} // node, physical table → its row
	for _, n := range nodes {
		res, err := s.statusRows(snap.Cluster.Nodes[n], onNode[n])
		if err != nil {
			return nil, nil, err
		}
		defs = res.defs
		for _, r := range res.rows {
			got[[2]string{n, string(r[0])}] = r
		}
	}
	rows = make([][][]byte, len(groups))
	for i, g := range groups {
		var parts [][][]byte
		for _, p := range g {
			if r, ok := got[[2]string{p.Node, p.Table}]; ok {
				parts = append(parts, r)
			}
		}
		switch len(parts) {
		case 0:
		case 1:
			rows[i] = parts[0]
		default:
			rows[i] = combineTableStatus(defs, parts)
		}
	}
	return defs, rows, nil
}

// statusRows are the SHOW TABLE STATUS rows of dn's physical tables names.
func (s *Session) statusRows(dn *backend.DataNode, names []string) (*nodeResult, error) {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = backend.QuoteString(n)
	}
	// WHERE, not LIKE: a LIKE takes no hex literal, and a name's _ would
	// need a backslash the session's sql_mode reads its own way.
	return s.nodeQuery(dn, "SHOW TABLE STATUS FROM "+backend.QuoteIdent(dn.Database)+" WHERE Name IN ("+strings.Join(quoted, ", ")+")")
}

// combineTableStatus makes the SHOW TABLE STATUS rows of a table's shards
// (defs: the columns) one row for the logical table: row counts and sizes
// added, the average row length of the sum, the earliest creation, the
// latest update and check, the highest AUTO_INCREMENT, and live checksums
// combined as CHECKSUM TABLE's (exec.SumChecksums). The rest is the first
// shard's.
func combineTableStatus(defs [][]byte, rows [][][]byte) [][]byte {
	out := slices.Clone(rows[0])
	rowsAt, dataAt, avgAt := -1, -1, -1
	for i, d := range defs {
		c, err := wire.ParseColumnDef(d)
		if err != nil || i >= len(out) {
			continue
		}
		vals := make([][]byte, 0, len(rows))
		for _, r := range rows {
			if i < len(r) {
				vals = append(vals, r[i])
			}
		}
		switch string(c.Name) {
		case "Rows", "Data_length", "Index_length", "Data_free":
			out[i] = sumCounts(vals)
		case "Auto_increment":
			out[i] = bestOf(vals, func(v, best []byte) bool { return statusCount(v) > statusCount(best) })
		case "Create_time":
			// (as "YYYY-MM-DD hh:mm:ss", times order as text)
			out[i] = bestOf(vals, func(v, best []byte) bool { return string(v) < string(best) })
		case "Update_time", "Check_time":
			out[i] = bestOf(vals, func(v, best []byte) bool { return string(v) > string(best) })
		case "Checksum":
			out[i] = exec.SumChecksums(vals)
		}
		switch string(c.Name) {
		case "Rows":
			rowsAt = i
		case "Data_length":
			dataAt = i
		case "Avg_row_length":
			avgAt = i
		}
	}
	if rowsAt >= 0 && dataAt >= 0 && avgAt >= 0 && out[rowsAt] != nil && out[dataAt] != nil {
		avg := uint64(0)
		if n := statusCount(out[rowsAt]); n > 0 {
			avg = statusCount(out[dataAt]) / n
		}
		out[avgAt] = strconv.AppendUint(nil, avg, 10)
	}
	return out
}

// statusCount reads a SHOW TABLE STATUS count (0 for NULL).
func statusCount(v []byte) uint64 {
	n, _ := strconv.ParseUint(string(v), 10, 64)
	return n
}

// sumCounts adds the counts that are not NULL; NULL if all are.
func sumCounts(vals [][]byte) []byte {
	var sum uint64
	seen := false
	for _, v := range vals {
		if v != nil {
			sum, seen = sum+statusCount(v), true
		}
	}
	if !seen {
		return nil
	}
	return strconv.AppendUint(nil, sum, 10)
}

// bestOf is the value better than every other by better, NULLs aside (NULL
// if all are).
func bestOf(vals [][]byte, better func(v, best []byte) bool) []byte {
	var best []byte
	for _, v := range vals {
		if v != nil && (best == nil || better(v, best)) {
			best = v
		}
	}
	return best
}

// nodeResult is a small result read whole from a node.
type nodeResult struct {
	defs [][]byte
	rows [][][]byte
}

// nodeQuery runs a metadata statement on a node's primary and reads it all.
func (s *Session) nodeQuery(dn *backend.DataNode, sql string) (*nodeResult, error) {
	c, err := s.acquirePrimary(dn.Host, nil)
	if err != nil {
		return nil, err
	}
	if err := s.prepareConn(c, dn.Database, &parser.Summary{}); err != nil {
		s.release(c, nil, true)
		return nil, err
	}
	res := &nodeResult{}
	err = c.QueryRaw(sql, func(defs [][]byte) { res.defs = defs }, func(v [][]byte) {
		res.rows = append(res.rows, append([][]byte(nil), v...))
	})
	s.release(c, nil, c.Broken())
	return res, err
}

// write sends the result with its original column definitions, its rows
// in the binary protocol if s.cli.BinaryRows (a prepared statement's).
func (r *nodeResult) write(s *Session) {
	var bin [][]byte
	if s.cli.BinaryRows {
		// Converted before anything is sent: a value that does not
		// convert still gets its error.
		bin = make([][]byte, len(r.rows))
		for i, row := range r.rows {
			bin[i] = exec.AppendTextRow(nil, row)
		}
		if err := exec.BinaryRows(r.defs, bin); err != nil {
			s.writeErr(mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: "+err.Error()))
			return
		}
	}
	c := s.c
	c.WritePacket(wire.AppendLenEnc(nil, uint64(len(r.defs))))
	for _, d := range r.defs {
		c.WritePacket(d)
	}
	st := s.ClientStatus()
	if s.cli.MoreResults {
		st |= mysql.SERVER_MORE_RESULTS_EXISTS
	}
	if !s.cli.DeprecateEOF {
		c.WritePacket(wire.AppendEOF(nil, 0, s.ClientStatus()))
	}
	var b []byte
	for i, row := range r.rows {
		if bin != nil {
			c.WritePacket(bin[i])
			continue
		}
		b = exec.AppendTextRow(b[:0], row)
		c.WritePacket(b)
	}
	if s.cli.DeprecateEOF {
		ok := wire.OK{Status: st}
		c.WritePacket(wire.AppendOK(nil, wire.EOFHeader, &ok, s.cli.SessionTrack))
	} else {
		c.WritePacket(wire.AppendEOF(nil, 0, st))
	}
}
