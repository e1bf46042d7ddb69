package session

import (
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/router"
)

// runPlan runs a sharded statement's plan inside the right transaction:
// DDL first commits an open transaction (as MySQL does); with autocommit
// off, a statement opens one; an autocommit write of several statements
// (shards, copies) runs in one transaction of its own, so that it is all
// or nothing; a deadlock rolls the whole transaction back. A plain read
// that fails because its server died is run again elsewhere.
//
// firstID is the first id the proxy generated for an INSERT (0: none): the
// OK packet and LAST_INSERT_ID() tell it.
func (s *Session) runPlan(plan *router.Plan, stmt ast.StmtNode, sum *parser.Summary, firstID uint64) (exec.Outcome, error) {
	plan, e := s.applySelectLimit(plan)
	if e != nil {
		return exec.Outcome{}, e // before any transaction is opened for it
	}
	if sum != nil && sum.Flags&parser.FlagUserVarAssign != 0 && !oneStatement(plan) {
		// Each shard would assign its own value, in its own order.
		return exec.Outcome{}, unsupported("assigning user variables (@" + strings.Join(sum.UserVars, ", @") +
			") in a statement that runs on several shards or copies: each would assign its own value")
	}
	commits := commitsFirst(stmt, plan)
	if s.tx.open && commits {
		if e := s.endTransaction("COMMIT"); e != nil {
			return exec.Outcome{}, e
		}
	}
	if !commits {
		s.implicitBegin(stmt)
	}
	auto := s.tx.open && s.tx.auto // (opened for the write's subqueries: pullSubqueries)
	if !auto && plan.Write && !s.tx.open && !commits && plan.WriteStatements() > 1 && s.wantXA("START TRANSACTION") {
		s.autoBegin()
		auto = true
	}
	if auto {
		s.cli.HideStatus = mysql.SERVER_STATUS_IN_TRANS
		defer func() { s.cli.HideStatus = 0 }()
	}
	if countsRows(plan) && s.vars != nil {
		defer s.withoutSelectLimit()() // (a derived table is never cut by it)
	}
	if plan.Write && s.vars != nil {
		defer s.withoutSelectLimit()()
	}
	s.cli.FixedTime = s.fixedTime()
	s.planSum, s.planWrite = sum, plan.Write
	s.cli.InsertID = firstID
	s.mode()
	s.cli.GroupConcatMaxLen = s.modeCache.gcMax
	// In the client's transaction, a failed write of several statements
	// is undone whole (an autocommit one rolls its own transaction back).
	s.cli.Atomic = plan.Write && s.tx.open && !s.tx.auto && !commits && plan.WriteStatements() > 1
	defer func() { s.cli.InsertID, s.cli.Atomic, s.cli.IDs = 0, false, nil }()
	var out exec.Outcome
	var err error
	s.cli.Affected = -1
	for attempt := 0; ; attempt++ {
		s.beginTracking(sum, "")
		out, err = exec.Run(&s.cli, plan, s, s)
		if err == nil || !s.retryRead(sum, nil, err, attempt) {
			break
		}
	}
	s.planSum, s.planWrite = nil, false
	for _, w := range out.Notes {
		s.diag.add(w.Level, w.Code, w.Message)
	}
	s.cur.found, s.cur.foundKnown = out.FoundRows, out.FoundRowsKnown && err == nil && out.Err == nil
	s.cur.rowCount, s.cur.rowCountKnown = s.cli.Affected, err == nil && s.cur.uses > 0
	s.cur.plan = plan
	if out.Err != nil {
		s.cur.rowCount = -1 // (as after any error)
	}
	s.statementError(out.Err)
	switch {
	case auto && err == nil && out.Err == nil:
		if e := s.endTransaction("COMMIT"); e != nil {
			s.c.Rewind(s.mark) // the OK already written was premature
			s.cur.rowCount = -1
			return out, e
		}
	case auto:
		s.endTransaction("ROLLBACK")
	}
	if plan.Write && out.Err == nil && isDDL(stmt) {
		s.env.columns.forget()
	}
	if err == nil && out.Err == nil && firstID != 0 {
		s.lastInsertID = firstID
	}
	return out, err
}

// commitsFirst reports a statement that commits an open transaction
// first and opens none, as on one server: DDL, and the table maintenance
// statements but CHECKSUM TABLE.
func commitsFirst(stmt ast.StmtNode, plan *router.Plan) bool {
	if m, ok := plan.Root.(*router.Maintenance); ok {
		return m.Commits()
	}
	return isDDL(stmt)
}

// countsRows reports a plan that counts a derived table's rows.
func countsRows(p *router.Plan) bool {
	root := p.Root
	if l, ok := root.(*router.Limit); ok {
		root = l.Input
	}
	_, ok := root.(*router.CountRows)
	return ok
}

// autoBegin opens the transaction of one autocommit statement, which
// runPlan ends with it.
func (s *Session) autoBegin() {
	s.openTransaction("START TRANSACTION", true)
	s.tx.auto = true
}

// implicitBegin opens the transaction a statement other than DDL opens
// when autocommit is off.
func (s *Session) implicitBegin(stmt ast.StmtNode) {
	if !s.tx.open && s.status&mysql.SERVER_STATUS_AUTOCOMMIT == 0 && !isDDL(stmt) && s.wantXA("START TRANSACTION") {
		s.openTransaction("START TRANSACTION", true)
	}
}

// oneStatement reports whether the plan sends one statement to one
// connection, whose user variables are then the statement's.
func oneStatement(p *router.Plan) bool {
	r, ok := p.Root.(*router.Route)
	return ok && len(r.SQL) == 1 && r.Union == ""
}

// withoutSelectLimit lifts sql_select_limit for a write's statements, and
// returns what puts it back: it limits a SELECT's answer to the client,
// never a write, but the proxy's own reads for one (the rows an UPDATE
// moves, an INSERT ... SELECT copies, the parents of child rows) would
// be cut by it on the backends.
func (s *Session) withoutSelectLimit() func() {
	return s.withVar("sql_select_limit", noSelectLimit)
}

// withVar sets a session variable the session has (else nothing) for
// the proxy's own statements, and returns what puts it back.
func (s *Session) withVar(name, value string) func() {
	if v, ok := s.vars.Var(name); !ok || v == value {
		return func() {}
	}
	return s.withVars([]backend.Var{{Name: name, Value: value}})
}

// withVars sets session variables for a while and returns what puts each
// back (to its value before, or the server's default), also when the
// statement changed the session meanwhile.
func (s *Session) withVars(vars []backend.Var) func() {
	saved := s.vars
	set := s.vars.With(false, vars...)
	s.vars = set
	return func() {
		if s.vars == set {
			s.vars = saved
			return
		}
		for _, v := range vars {
			if old, ok := saved.Var(v.Name); ok {
				s.vars = s.vars.With(false, backend.Var{Name: v.Name, Value: old})
			} else {
				s.vars = s.vars.Without(v.Name)
			}
		}
	}
}

// noSelectLimit is sql_select_limit's default (SET ... = DEFAULT gives it).
const noSelectLimit = "18446744073709551615"

// applySelectLimit applies sql_select_limit to a read over several shards,
// as the server applies it to a SELECT without LIMIT. Each shard's
// statement gets it from the session and keeps its first rows, which is
// all a merge needs that only concatenates or merge-sorts: the proxy then
// keeps as many of the merged rows. With a LIMIT of the query's own, the
// server ignores the setting, and so do the shards. Where rows combine
// (groups, DISTINCT, a sort in memory), the shards' cut rows would give a
// wrong answer: refused. One shard's statement applies it as the server
// would.
func (s *Session) applySelectLimit(plan *router.Plan) (*router.Plan, *mysql.MyError) {
	if plan.Write || s.vars == nil {
		return plan, nil
	}
	switch plan.Root.(type) {
	case *router.Route, *router.Maintenance:
		return plan, nil // (one server does not cut a maintenance statement's rows)
	}
	if d, ok := plan.Root.(*router.Described); ok {
		in := *plan
		in.Root = d.Input
		out, e := s.applySelectLimit(&in)
		if e != nil || out == &in {
			return plan, e
		}
		in.Root = &router.Described{Defs: d.Defs, Input: out.Root}
		return &in, nil
	}
	v, ok := s.vars.Var("sql_select_limit")
	if !ok || v == noSelectLimit {
		return plan, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	root := plan.Root
	if p, ok := root.(*router.Project); ok {
		root = p.Input
	}
	switch r := root.(type) {
	case *router.Limit:
		switch r.Input.(type) {
		case *router.Scatter, *router.MergeSort:
			if r.Count >= 0 { // (LIMIT n, 18446744073709551615 gives the shards none)
				return plan, nil
			}
		case *router.CountRows:
			return plan, nil
		}
	case *router.CountRows:
		// It limits the count's one row; the derived table's statements
		// run without it (runPlan).
		if err == nil {
			return &router.Plan{Root: &router.Limit{Count: n, Input: plan.Root}, Tables: plan.Tables}, nil
		}
	case *router.Scatter, *router.MergeSort:
		if err == nil {
			return &router.Plan{Root: &router.Limit{Count: n, Input: plan.Root}, Tables: plan.Tables}, nil
		}
	}
	return nil, unsupported("a query across shards that groups, deduplicates or sorts in memory while sql_select_limit is set (" + v + "): each shard would cut its own rows; write the LIMIT in the query, or SET sql_select_limit = DEFAULT")
}
