package session

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/merge"
	"github.com/shardgate/shardgate/shardrules"
)

// materialize plans a SELECT the planner refused (refusal) because a
// derived table or WITH query of it, run per shard, would give each
// shard's own rows, or because it joins a table on one node with shards
// on others (with all: whatever the reason): each such table runs first
// on its own, and the statement is planned again with its rows written
// in as literals, under the column definitions the original statement
// gets (see router.Materializable). fresh parses the statement again (each step
// rewrites a parse of its own); depth counts the statements being read
// first around it.
func (s *Session) materialize(fresh func() (ast.StmtNode, error), snap *snapshot.Snapshot, refusal error, depth int, all bool) (_ *router.Plan, err error) {
	if all {
		// What stops the last way is said after the statement's own refusal.
		defer func() {
			var me *mysql.MyError
			if err != refusal && router.Refused(err) && errors.As(err, &me) {
				r := *refusal.(*mysql.MyError)
				r.Message += " (reading its tables first for one server to answer it: " + strings.TrimPrefix(me.Message, "shardgate does not support ") + ")"
				err = &r
			}
		}()
	}
	env := s.routerEnv(snap)
	targets := func() (ast.StmtNode, []*router.Derived, error) {
		stmt, err := fresh()
		if err != nil {
			return nil, nil, err
		}
		router.KeepFieldNames(stmt) // (printed again, its columns keep their names)
		return stmt, router.Materializable(stmt, env, all), nil
	}
	stmt, ds, err := targets()
	if err != nil {
		return nil, refusal
	}
	if stop, plan, err := s.plansWithRowsIn(stmt, ds, snap, refusal, depth); stop {
		return plan, err
	}
	mode := s.mode()
	s.implicitBegin(stmt)
	defer s.withoutSelectLimit()() // (a derived table is never cut by it)
	at, done := s.statementTime(stmt)
	defer done()
	texts, enums, err := s.readFirst(stmt, ds, "", env, snap, depth, at)
	if err == errNotReadFirst {
		return nil, refusal
	} else if err != nil {
		return nil, err
	}
	// What the client sees: the statement's columns with each table read
	// first giving no rows, on one node. (Its errors are the statement's.)
	// After the reading, which is bounded: with every table read first,
	// this reads one shard's share whole.
	described, ds2, err := targets()
	if err != nil || len(ds2) != len(ds) {
		return nil, refusal
	}
	node, sql, twins, err := router.DescribeSQL(described, ds2, env)
	if err != nil {
		return nil, refusal
	}
	var fields []merge.Field
	err = s.withTwins(node, twins, env, func() (err error) {
		fields, err = s.readOn(node, sql, nil)
		return err
	})
	if err != nil {
		return nil, describeFailed(err)
	}
	defs := make([][]byte, len(fields))
	for i := range fields {
		defs[i] = fields[i].Def
	}
	stmt, ds3, err := targets()
	if err != nil || len(ds3) != len(ds) {
		return nil, refusal
	}
	router.Mark(ds3)
	for _, e := range enums {
		router.EnumByPosition(stmt, ds3[e.derived], e.column, e.labels)
	}
	final, err := router.Materialize(stmt, ds3, texts, mode)
	if err != nil {
		return nil, err
	}
	plan, err := s.planPulled(final, snap, depth)
	if err != nil {
		return nil, err
	}
	plan.Root = &router.Described{Defs: defs, Input: plan.Root}
	plan.At = at
	return plan, nil
}

// around plans a statement the planner refused in one of the proxy's
// ways around a refusal, in turn: subqueries run first (a placement); an
// UPDATE or DELETE with ORDER BY and LIMIT reads its keys first;
// derived tables and tables on a node of their own read first; last,
// every table read first (within the bound) for one server to answer
// the statement whole. Else the refusal stands.
func (s *Session) around(fresh func() (ast.StmtNode, error), snap *snapshot.Snapshot, refusal error, depth int) (*router.Plan, error) {
	plan, err := s.aroundRefusal(fresh, snap, refusal, depth)
	if router.Refused(err) {
		// A refusal must not hide the server's error for a derived table
		// naming a column twice. (The ways around run the statement's
		// parts, so an error a server gives before it came from there.)
		if stmt, perr := fresh(); perr == nil {
			router.KeepFieldNames(stmt) // (an expression is named by its text)
			if dup := router.DerivedDuplicate(stmt); dup != nil {
				return nil, dup
			}
		}
	}
	return plan, err
}

// materializeWrite plans a multi-table UPDATE or DELETE the planner
// refused because it joins tables on other nodes than the tables it
// writes: those run first on their own, with shared locks held in the
// write's transaction (as InnoDB reads them there), and their rows join
// the write as literal rows (router.WriteTables).
func (s *Session) materializeWrite(fresh func() (ast.StmtNode, error), snap *snapshot.Snapshot, refusal error, depth int) (plan *router.Plan, err error) {
	stmt, err := fresh()
	if err != nil {
		return nil, refusal
	}
	env := s.routerEnv(snap)
	ds := router.WriteTables(stmt, env)
	if len(ds) == 0 || !s.clientTextEscapes() {
		return nil, refusal
	}
	if stop, plan, err := s.plansWithRowsIn(stmt, ds, snap, refusal, depth); stop {
		return plan, err
	}
	n := len(ds)
	if stmt, err = fresh(); err != nil {
		return nil, refusal
	}
	if ds = router.WriteTables(stmt, env); len(ds) != n {
		return nil, refusal
	}
	mode := s.mode()
	s.implicitBegin(stmt)
	defer s.lockingReadsTx()(&err)
	defer s.withoutSelectLimit()()
	at, done := s.statementTime(stmt)
	defer done()
	texts, enums, err := s.readFirst(stmt, ds, " LOCK IN SHARE MODE", env, snap, depth, at)
	if err == errNotReadFirst {
		return nil, refusal
	} else if err != nil {
		return nil, err
	}
	if len(enums) > 0 {
		return nil, refusal // (a write sorts by none it reads first)
	}
	sql, err := router.Materialize(stmt, ds, texts, mode)
	if err != nil {
		return nil, err
	}
	if plan, err = s.planPulled(sql, snap, depth); err == nil {
		plan.At = at
	}
	return plan, err
}

func (s *Session) aroundRefusal(fresh func() (ast.StmtNode, error), snap *snapshot.Snapshot, refusal error, depth int) (*router.Plan, error) {
	if router.Placement(refusal) {
		if plan, err := s.pullSubqueries(fresh, snap, refusal, depth); err != refusal {
			return plan, err
		}
	}
	if router.Refused(refusal) {
		if plan, err := s.keysFirst(fresh, snap, refusal, depth); err != refusal {
			return plan, err
		}
		if plan, err := s.materializeWrite(fresh, snap, refusal, depth); err != refusal {
			return plan, err
		}
		if plan, err := s.materialize(fresh, snap, refusal, depth, false); err != refusal {
			return plan, err
		}
		// Last: every table read first, one server answers the rest.
		return s.materialize(fresh, snap, refusal, depth, true)
	}
	return nil, refusal
}

// plansWithRowsIn asks, before anything runs, whether stmt plans with the
// rows of ds (tables read first) written in, each as a UNION ALL of rows.
// stop: it does not (the refusal stands, or the statement's own error,
// such as ORDER BY 3 of two columns), or it is only being planned.
func (s *Session) plansWithRowsIn(stmt ast.StmtNode, ds []*router.Derived, snap *snapshot.Snapshot, refusal error, depth int) (stop bool, plan *router.Plan, err error) {
	if _, ok := s.vars.Var("character_set_results"); len(ds) == 0 || depth >= maxPullDepth || !ok {
		return true, nil, refusal
	}
	mode := s.mode()
	if text, err := parser.RestoreMode([]ast.StmtNode{stmt}, mode); err != nil || !runsApart(text) {
		return true, nil, refusal // (its pieces would run apart, at other moments)
	}
	texts := make([]string, len(ds))
	for i := range texts {
		texts[i] = "SELECT NULL UNION ALL SELECT NULL"
	}
	sql, err := router.Materialize(stmt, ds, texts, mode)
	if err != nil {
		return true, nil, refusal
	}
	if err := s.prechecked(sql, snap, depth); err != nil {
		if router.Refused(err) {
			return true, nil, refusal // (it names the client's statement)
		}
		return true, nil, err
	}
	if s.precheck {
		return true, precheckPlan, nil
	}
	return false, nil, nil
}

// errNotReadFirst: a table to read first cannot be printed as a query.
var errNotReadFirst = errors.New("not read first")

// readFirst reads each of ds on its own (planned and merged as any SELECT,
// suffix after its text: a write's " LOCK IN SHARE MODE") and writes its
// rows as literal rows (texts), each typed as its column. enums are its
// ENUM and SET columns stmt sorts by, with their labels.
func (s *Session) readFirst(stmt ast.StmtNode, ds []*router.Derived, suffix string, env *router.Env, snap *snapshot.Snapshot, depth int, at time.Time) (texts []string, enums []sortedEnum, err error) {
	texts = make([]string, len(ds))
	held := 0
	// The rows come unconverted, each string in its column's character
	// set, and go back as its bytes: nothing the client's character set
	// cannot hold is lost on the way.
	unconverted, restored := s.withVar("character_set_results", "binary"), false
	restore := func() {
		if !restored {
			restored = true
			unconverted()
		}
	}
	defer restore()
	for i, d := range ds {
		sql, err := d.SQL(s.mode())
		if err != nil {
			return nil, nil, errNotReadFirst
		}
		sql += suffix
		plan, err := s.planPulled(sql, snap, depth)
		if err != nil {
			return nil, nil, err
		}
		var rows [][][]byte
		s.cli.GroupConcatMaxLen = s.modeCache.gcMax
		plan.At = at
		fields, err := s.collect(plan, func(_ []merge.Field, vals [][]byte) (bool, error) {
			row := copyRow(vals)
			for _, v := range row {
				held += len(v) + 4
			}
			if held > router.MaxPulledBytes {
				return false, router.ErrDerivedTooBig
			}
			rows = append(rows, row)
			return true, nil
		})
		if err != nil {
			return nil, nil, err
		}
		cols, err := s.derivedColumns(fields, d, env)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range cols { // (by the name as the statement writes it)
			name := strings.ToLower(c.Name)
			if c.Field.Flags&(mysql.ENUM_FLAG|mysql.SET_FLAG) == 0 || router.EnumUsesAsText(stmt, d, name) {
				continue
			}
			// Sorted by its labels' positions, as the column sorts.
			labels, ok := s.enumLabels(snap, c.Field, env)
			if ok {
				router.EnumByPosition(stmt, d, name, labels)
			}
			if !ok || !router.EnumSortedAsText(stmt, d, name) {
				return nil, nil, unsupported("an ENUM or SET column (" + c.Field.Name + ") read first, then used as a number, or sorted where the proxy cannot sort it by its labels' positions (it comes back as its text)")
			}
			enums = append(enums, sortedEnum{i, name, labels})
		}
		if texts[i], err = router.DerivedRows(cols, rows); err != nil {
			return nil, nil, err
		}
	}
	return texts, enums, nil
}

// derivedColumns describes a derived table's columns for its literals:
// each string column's collation and whether it is its character set's
// default, asked of one node.
func (s *Session) derivedColumns(fields []merge.Field, d *router.Derived, env *router.Env) ([]router.DerivedColumn, error) {
	cols := make([]router.DerivedColumn, len(fields))
	var names []string
	for i := range fields {
		name, err := router.ClientName(fields[i].Name, env.ForeignCharset)
		if err != nil {
			return nil, err
		}
		cols[i].Field, cols[i].Name = &fields[i], name
		names = append(names, name)
	}
	if !slices.ContainsFunc(fields, func(f merge.Field) bool { return router.StringType(f.Type) }) {
		return cols, nil
	}
	node, sql, twins, err := d.CollationSQL(names, env)
	if err != nil {
		return nil, err
	}
	var colls [][]byte
	if err := s.withTwins(node, twins, env, func() error {
		_, err := s.readOn(node, sql, func(vals [][]byte) {
			for _, v := range vals {
				colls = append(colls, append([]byte{}, v...))
			}
		})
		return err
	}); err != nil {
		return nil, describeFailed(err)
	}
	if len(colls) != len(cols) {
		return nil, unsupported("rows to read first whose columns' collations the proxy could not learn")
	}
	var charsets []string
	for i := range cols {
		cols[i].Collation = string(colls[i])
		cs := charsetOf(cols[i].Collation)
		if cs == "binary" || colls[i] == nil {
			continue
		}
		if !slices.Contains(charsets, cs) {
			charsets = append(charsets, cs)
		}
	}
	if len(charsets) == 0 {
		return cols, nil
	}
	var defaults []string
	if _, err := s.readOn(node, router.DefaultCollationSQL(charsets), func(vals [][]byte) {
		for _, v := range vals {
			defaults = append(defaults, string(v))
		}
	}); err != nil {
		return nil, err
	}
	for i := range cols {
		cols[i].Default = slices.Contains(defaults, cols[i].Collation)
	}
	return cols, nil
}

func charsetOf(collation string) string {
	cs, _, _ := strings.Cut(collation, "_")
	return cs
}

// readOn runs a statement of the proxy's own on one node and returns its
// fields; row, when set, gets each row's values.
func (s *Session) readOn(node, sql string, row func(vals [][]byte)) ([]merge.Field, error) {
	plan := &router.Plan{Root: &router.Route{Node: node, SQL: []string{sql}, Readable: true}}
	return s.collect(plan, func(_ []merge.Field, vals [][]byte) (bool, error) {
		if row != nil {
			row(vals)
		}
		return true, nil
	})
}

// describeFailed: a statement of the proxy's own about the client's
// failed. A table missing there lives on another node: refused; any other
// error is the statement's own, as one server gives it.
func describeFailed(err error) error {
	var me *mysql.MyError
	if errors.As(err, &me) && me.Code == mysql.ER_NO_SUCH_TABLE {
		return unsupported("a statement whose tables read first leave tables of several nodes that one node cannot describe (" + me.Message + ")")
	}
	return err
}

// sortedEnum is an ENUM column of the derived table ds[derived] that the
// statement sorts by, and its labels (see router.EnumByPosition).
type sortedEnum struct {
	derived int
	column  string
	labels  []string
}

// enumLabels returns the labels of the ENUM column f names, in the
// client's character set, from its table's definition; false for a SET,
// a value computed from the column, or a label the client's character
// set cannot spell.
func (s *Session) enumLabels(snap *snapshot.Snapshot, f *merge.Field, env *router.Env) ([]string, bool) {
	if f.Flags&mysql.ENUM_FLAG == 0 {
		return nil, false
	}
	c, err := wire.ParseColumnDef(f.Def)
	if err != nil || len(c.OrgTable) == 0 || len(c.OrgName) == 0 {
		return nil, false
	}
	schema, table, column := string(c.Schema), string(c.OrgTable), string(c.OrgName)
	if logical, ok := snap.Names.DB[schema]; ok { // (a shard's names)
		if t, ok := snap.Names.Table[[2]string{schema, table}]; ok {
			table = t
		}
		schema = logical
	}
	typ, err := s.columnMeta(snap, schema, table, column, "COLUMN_TYPE")
	if err != nil {
		return nil, false
	}
	labels, ok := router.EnumLabels(typ)
	for i := range labels {
		if labels[i], err = router.ClientName(labels[i], env.ForeignCharset); err != nil {
			return nil, false
		}
	}
	return labels, ok
}

// withTwins runs fn, a statement of the proxy's own about the client's
// on node, where the client's tables on one node each on other nodes
// (twins) are there too: each made, empty, as a temporary table of its
// definition, on a connection to node's primary the session holds until
// fn has run and they are dropped. The server then describes their
// columns as they are.
func (s *Session) withTwins(node string, twins []shardrules.Placement, env *router.Env, fn func() error) error {
	if len(twins) == 0 {
		return fn()
	}
	defs := make([]string, len(twins))
	for i, p := range twins {
		var err error
		if defs[i], err = s.temporaryTwin(p, env); err != nil {
			return err
		}
	}
	dn := s.env.Snap.Load().Cluster.Nodes[node]
	if dn == nil {
		return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: no data node "+node)
	}
	sum := &parser.Summary{}
	c, err := s.acquirePrimary(dn.Host, sum)
	if err != nil {
		return err
	}
	if err := s.prepareConn(c, dn.Database, sum); err != nil {
		s.release(c, sum, true)
		return err
	}
	s.keep = c // (fn's statements find it: acquire, replicaRead)
	s.pin(c)
	made := 0
	defer func() {
		s.keep = nil
		for _, p := range twins[:made] {
			if c.Broken() {
				break
			}
			if _, err := c.Exec("DROP TEMPORARY TABLE IF EXISTS " + backend.QuoteIdent(p.Table)); err != nil {
				c.MarkBroken()
			}
		}
		s.release(c, nil, false)
	}()
	for _, def := range defs {
		if _, err := c.Exec(def); err != nil {
			return err
		}
		made++
	}
	return fn()
}

// temporaryTwin is the statement that makes, in a connection's current
// database, an empty temporary table with the definition of the physical
// table p: its SHOW CREATE TABLE as a temporary table, without what a
// temporary table cannot have (foreign keys, partitions).
func (s *Session) temporaryTwin(p shardrules.Placement, env *router.Env) (string, error) {
	var create string
	if _, err := s.readOn(p.Node, "SHOW CREATE TABLE "+backend.QuoteIdent(env.NodeDB(p.Node))+"."+backend.QuoteIdent(p.Table), func(vals [][]byte) {
		if len(vals) > 1 {
			create = string(vals[1])
		}
	}); err != nil {
		return "", err
	}
	const head = "CREATE TABLE "
	if !strings.HasPrefix(create, head) {
		return "", errors.New("not a table")
	}
	lines := strings.Split("CREATE TEMPORARY TABLE "+create[len(head):], "\n")
	kept := lines[:0]
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.Contains(t, "FOREIGN KEY"):
			continue
		case strings.HasPrefix(t, "PARTITION BY") || strings.HasPrefix(t, "/*!50100 PARTITION BY") || strings.HasPrefix(t, "(PARTITION") || strings.HasPrefix(t, "PARTITION "):
			continue
		}
		kept = append(kept, l)
	}
	// A line dropped after the last column leaves its comma behind.
	out := strings.Join(kept, "\n")
	return strings.Replace(out, ",\n)", "\n)", 1), nil
}
