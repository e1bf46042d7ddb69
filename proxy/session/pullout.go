package session

import (
	"encoding/binary"
	"errors"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/merge"
)

// maxPullDepth bounds subqueries pulled out of subqueries pulled out.
const maxPullDepth = 4

// pullSubqueries plans a SELECT, UPDATE, DELETE or INSERT ... SELECT the
// planner refused (refusal) because one server cannot read a subquery of
// its conditions with the rest: each uncorrelated one runs first, on its
// own, and the statement is planned again with their results written in
// (see router.Pullable).
// When none can, or one turns out to read the statement's columns, the
// refusal stands. fresh parses the statement again: planning may have
// left the refused one half rewritten (a UNION's first part with physical
// names). depth counts the statements being pulled around it.
func (s *Session) pullSubqueries(fresh func() (ast.StmtNode, error), snap *snapshot.Snapshot, refusal error, depth int) (*router.Plan, error) {
	stmt, err := fresh()
	if err != nil {
		return nil, refusal
	}
	// The statement is printed again: its columns keep the names as written.
	router.KeepFieldNames(stmt)
	subs := router.Pullable(stmt)
	return s.pullInto(stmt, subs, snap, refusal, depth)
}

// keysFirst plans an UPDATE or DELETE with ORDER BY and LIMIT across
// shards as a read of the keys of the rows to change, locked, and a write
// of those keys (router.KeysFirst).
func (s *Session) keysFirst(fresh func() (ast.StmtNode, error), snap *snapshot.Snapshot, refusal error, depth int) (*router.Plan, error) {
	stmt, err := fresh()
	if err != nil {
		return nil, refusal
	}
	read := router.KeysFirst(stmt, s.routerEnv(snap))
	if read == nil {
		return nil, refusal
	}
	return s.pullInto(stmt, []*router.Pulled{read}, snap, refusal, depth)
}

// pullInto runs subs first and plans stmt with their results written in;
// a write's (Lock) run in its transaction, begun here when there is none.
func (s *Session) pullInto(stmt ast.StmtNode, subs []*router.Pulled, snap *snapshot.Snapshot, refusal error, depth int) (plan *router.Plan, err error) {
	mode := s.mode()
	if len(subs) == 0 || depth >= maxPullDepth || !s.clientTextEscapes() {
		return nil, refusal
	}
	// Would the statement plan with the results in? Ask before running
	// anything, with NULLs in their places.
	texts := make([]string, len(subs))
	for i := range subs {
		texts[i] = "(NULL)"
	}
	sql, err := router.Inline(stmt, subs, texts, mode)
	if err != nil {
		return nil, refusal
	}
	if err := s.prechecked(sql, snap, depth); err != nil {
		return nil, err
	} else if s.precheck {
		return precheckPlan, nil
	}
	queries := make([]string, len(subs))
	for i, p := range subs {
		if queries[i], err = p.SQL(mode); err != nil {
			return nil, refusal
		}
		if !runsApart(queries[i]) {
			return nil, refusal
		}
	}
	// The subqueries read in the statement's transaction; a write's holds
	// their shared locks until it commits.
	s.implicitBegin(stmt)
	if subs[0].Lock {
		defer s.lockingReadsTx()(&err)
	}
	defer s.withoutSelectLimit()() // (a subquery is never cut by it)
	at, done := s.statementTime(stmt)
	defer done()
	held := 0
	for i, p := range subs {
		plan, err := s.planPulled(queries[i], snap, depth)
		if err != nil {
			return nil, err
		}
		plan.At = at
		rows, err := s.pulledRows(plan, p, snap, depth, &held)
		var me *mysql.MyError
		if errors.As(err, &me) && me.Code == mysql.ER_BAD_FIELD_ERROR {
			return nil, refusal // it names a column of the statement around it
		}
		if err != nil {
			return nil, err
		}
		if texts[i], err = p.Text(rows); err != nil {
			return nil, err
		}
	}
	if sql, err = router.Inline(stmt, subs, texts, mode); err != nil {
		return nil, err
	}
	if plan, err = s.planPulled(sql, snap, depth); err == nil {
		plan.At = at
	}
	return plan, err
}

// lockingReadsTx begins, for a write whose reads run first with shared
// locks, a transaction of its own when it has none (and XA can make it
// span nodes), so that the locks hold until the write commits. What it
// returns, deferred with the write's error, rolls that transaction back
// when the write fails.
func (s *Session) lockingReadsTx() func(err *error) {
	if s.tx.open || !s.wantXA("START TRANSACTION") {
		return func(*error) {}
	}
	s.autoBegin()
	return func(err *error) {
		if *err != nil && s.tx.open && s.tx.auto {
			s.endTransaction("ROLLBACK")
		}
	}
}

// runsApart reports whether a statement the proxy runs for a client's
// (a subquery pulled out, tables read first, a statement describing the
// client's) does the same there: nothing that reads or changes the
// connection or the server's state, or has side effects.
func runsApart(sql string) bool {
	var sum parser.Summary
	parser.Scan(sql, &sum)
	const notAlone = parser.FlagLastInsertID | parser.FlagPrevResult | parser.FlagPin | parser.FlagUserVarAssign |
		parser.FlagConnectionID | parser.FlagDatabase | parser.FlagSequence | parser.FlagSideEffect | parser.FlagUser |
		parser.FlagFile | parser.FlagDiagnostics | parser.FlagIntoVar
	return sum.Flags&notAlone == 0
}

// clientTextEscapes reports whether the client's statement can be
// printed back with results written in: its character set's bytes escape
// alike (not one where a multibyte character may hold a quote or
// backslash byte). (The results are read unconverted, strings written in
// hex, whatever character_set_results is.)
func (s *Session) clientTextEscapes() bool {
	cl, _ := s.vars.Var("character_set_client")
	switch strings.ToLower(strings.Trim(cl, "'\"` ")) {
	case "", "big5", "cp932", "gbk", "sjis", "gb18030":
		return false
	}
	return true
}

// precheckPlan stands for a plan a way around a refusal would make, while
// the statement is only being planned.
var precheckPlan = &router.Plan{}

// prechecked plans sql as planPulled does, without running anything: the
// ways around a refusal inside it stop once their own statements would
// plan. (Their rows are not read yet: with placeholders in their place,
// the statement around them cannot be described.)
func (s *Session) prechecked(sql string, snap *snapshot.Snapshot, depth int) error {
	was := s.precheck
	s.precheck = true
	defer func() { s.precheck = was }()
	_, err := s.planPulled(sql, snap, depth)
	return err
}

// planPulled plans a statement written by pullSubqueries, pulling its
// own subqueries out when it needs to.
func (s *Session) planPulled(sql string, snap *snapshot.Snapshot, depth int) (*router.Plan, error) {
	fresh := func() (ast.StmtNode, error) { return s.parseOne(sql) }
	stmt, err := fresh()
	if err != nil {
		return nil, err
	}
	plan, err := router.Build(stmt, s.routerEnv(snap))
	if err != nil {
		return s.around(fresh, snap, err, depth+1)
	}
	return plan, nil
}

// parseOne parses a text of one statement in the session's sql_mode.
func (s *Session) parseOne(sql string) (ast.StmtNode, error) {
	stmts, err := parser.ParseMode(sql, s.mode())
	switch {
	case err != nil:
		return nil, parseError(err, nil)
	case len(stmts) != 1:
		return nil, syntaxError(sql)
	}
	if s.schema == "information_schema" {
		qualifyInfoSchema(stmts[0])
	}
	return stmts[0], nil
}

// pulledRows runs a pulled subquery's plan and returns its rows as
// literals: two rows at most for a scalar (a second is an error), one
// for EXISTS, each distinct one for IN, within MaxPulledBytes over the
// statement (held). The rows are read as readAssigned reads them: a
// string keeps its collation (router.Pulled.StringLiteral).
func (s *Session) pulledRows(plan *router.Plan, p *router.Pulled, snap *snapshot.Snapshot, depth int, held *int) ([][]string, error) {
	s.cli.GroupConcatMaxLen = s.modeCache.gcMax
	var raw [][][]byte
	seen := map[string]bool{}
	var key []byte
	fields, err := s.readAssigned(plan, p.Assign, func(_ []merge.Field, vals [][]byte) (bool, error) {
		if p.Kind == router.PullIn {
			// Each value after its length (0 for NULL): distinct rows,
			// distinct keys.
			key = key[:0]
			for _, v := range vals {
				n := uint64(0)
				if v != nil {
					n = uint64(len(v)) + 1
				}
				key = append(binary.AppendUvarint(key, n), v...)
			}
			if seen[string(key)] {
				return true, nil
			}
			seen[string(key)] = true
		}
		for _, v := range vals {
			*held += len(v) + 2
		}
		if *held > router.MaxPulledBytes {
			return false, router.ErrPulledTooBig
		}
		raw = append(raw, copyRow(vals))
		switch p.Kind {
		case router.PullScalar:
			return len(raw) < 2, nil
		case router.PullExists:
			return false, nil
		}
		return true, nil
	})
	if err != nil || p.Kind == router.PullExists {
		return make([][]string, len(raw)), err
	}
	var rows [][]string
	if p.Assign {
		rows, err = s.assignedLiterals(fields, raw)
	} else {
		rows, err = s.comparedLiterals(p, fields, raw, snap, depth)
	}
	if err != nil {
		return nil, err
	}
	for r, row := range rows {
		for i, lit := range row {
			*held += len(lit) - len(raw[r][i])
		}
	}
	if *held > router.MaxPulledBytes {
		return nil, router.ErrPulledTooBig
	}
	return rows, nil
}

// comparedLiterals writes the rows of a pulled subquery that is compared
// with something as literals: a string in its collation, once what it is
// compared with is known (router.Pulled.StringLiteral; learnt from the
// statement of PartnerProbe when it must be).
func (s *Session) comparedLiterals(p *router.Pulled, fields []merge.Field, raw [][][]byte, snap *snapshot.Snapshot, depth int) ([][]string, error) {
	mode := s.mode()
	env := s.routerEnv(snap)
	connection, _ := s.vars.Var("collation_connection")
	connection = strings.Trim(connection, "'\"` ")
	collation := func(id uint16) backend.Collation { return collationOf(snap.Info, id) }
	cols := make([]router.StringColumn, len(fields))
	for _, row := range raw {
		for i, v := range row {
			if router.TakesCollation(&fields[i], v == nil) {
				co := collation(fields[i].Charset)
				cols[i] = router.StringColumn{Charset: co.Charset, Collation: co.Name, Default: co.Default}
			}
		}
	}
	probe, err := p.PartnerProbe(cols, env, connection, mode)
	if err != nil {
		return nil, err
	}
	if probe != "" {
		// (When it fails, what the strings are compared with stays
		// unknown: they are refused, saying so.)
		if plan, err := s.planPulled(probe, snap, depth); err == nil {
			described, err := s.readAssigned(plan, false, func([]merge.Field, [][]byte) (bool, error) { return false, nil })
			if err == nil {
				p.SetPartners(described, func(id uint16) string { return collation(id).Name })
			}
		}
	}
	rows := make([][]string, len(raw))
	for r, vals := range raw {
		rows[r] = make([]string, len(vals))
		for i, v := range vals {
			var lit string
			if router.TakesCollation(&fields[i], v == nil) {
				lit, err = p.StringLiteral(&fields[i], v, i, env, cols[i], connection)
			} else {
				lit, err = router.PulledLiteral(&fields[i], v, v == nil, mode)
			}
			if err != nil {
				return nil, err
			}
			rows[r][i] = lit
		}
	}
	return rows, nil
}
