package session

import (
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/merge"
)

// intoAfterFrom is MariaDB's warning for INTO written after FROM.
const intoAfterFrom = "'<select expression> INTO <destination>;' is deprecated and will be removed in a future release. " +
	"Please use 'SELECT <select list> INTO <destination> FROM...' instead"

// selectInto answers SELECT ... INTO @v, ... in a sharded schema, which
// TiDB's parser does not read (parseErr): the SELECT without INTO is
// planned. On one statement of one node, INTO goes back where the client
// wrote it and the server assigns (the variables are read back as after
// any assignment). Over several, the proxy reads the one row and assigns
// its values (AssignedLiteral: a string with its collation on the servers).
func (s *Session) selectInto(sql string, sum *parser.Summary, snap *snapshot.Snapshot, parseErr error) error {
	refusal := parseError(parseErr, sum)
	sel, into, ok := parser.CutInto(sql)
	if !ok {
		return s.writeErr(refusal)
	}
	stmt, err := s.parseOne(sel)
	if err != nil {
		return s.writeErr(refusal)
	}
	if _, ok := stmt.(*ast.SelectStmt); !ok {
		return s.writeErr(refusal)
	}
	plan, err := router.Build(stmt, s.routerEnv(snap))
	if err != nil {
		plan, err = s.around(func() (ast.StmtNode, error) { return s.parseOne(sel) }, snap, err, 0)
	}
	if err != nil {
		return s.handleExecErr(err)
	}
	if r, one := plan.Root.(*router.Route); one && len(r.SQL) == 1 && !plan.Write {
		route := *r
		route.SQL = []string{parser.PutInto(r.SQL[0], into)}
		withInto := *plan
		withInto.Root = &route
		if _, err := s.runPlan(&withInto, stmt, sum, 0); err != nil {
			return s.handleExecErr(err)
		}
		return s.flush()
	}
	return s.assignRow(plan, into)
}

// assignRow reads a plan's one row into the variables of into, as a
// server's SELECT ... INTO does: a second row is error 1172 (the first
// assigned), none leaves them as they were with warning 1329.
func (s *Session) assignRow(plan *router.Plan, into parser.Into) error {
	var first [][]byte
	rows := 0
	fields, err := s.readAssigned(plan, true, func(fields []merge.Field, vals [][]byte) (bool, error) {
		if rows++; rows > 1 {
			return false, mysql.NewDefaultError(mysql.ER_TOO_MANY_ROWS)
		}
		if len(vals) != len(into.Vars) {
			return false, mysql.NewDefaultError(mysql.ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT)
		}
		first = copyRow(vals)
		return true, nil
	})
	if err == nil && len(fields) != len(into.Vars) {
		err = mysql.NewDefaultError(mysql.ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT)
	}
	if first != nil {
		// (Once the connections are back: each then still has the old
		// values, and gets the new ones when next used.)
		lits, lerr := s.assignedLiterals(fields, [][][]byte{first})
		if lerr != nil {
			err = lerr
		} else {
			vars := make([]backend.Var, len(into.Vars))
			for i := range vars {
				vars[i] = backend.Var{Name: into.Vars[i], Value: lits[0][i]}
			}
			s.vars = s.vars.With(true, vars...)
		}
	}
	if err != nil {
		return s.handleExecErr(err)
	}
	if into.AfterFrom {
		s.diag.add("Warning", mysql.ER_WARN_DEPRECATED_SYNTAX, intoAfterFrom)
	}
	if rows == 0 {
		s.diag.add("Warning", mysql.ER_SP_FETCH_NO_DATA, mysql.MySQLErrName[mysql.ER_SP_FETCH_NO_DATA])
	}
	s.cur.rowCount, s.cur.rowCountKnown = int64(rows), true
	return s.sendOK(wire.OK{AffectedRows: uint64(rows), Warnings: uint16(min(s.diag.warnings, 0xffff))})
}

// copyRow copies a row's values (nil stays NULL).
func copyRow(vals [][]byte) [][]byte {
	row := make([][]byte, len(vals))
	for i, v := range vals {
		if v != nil {
			row[i] = append([]byte{}, v...)
		}
	}
	return row
}

// assignedLiterals writes rows that variables take whole (a SET's
// value, a SELECT ... INTO's row), read as they are (readAssigned), as
// literals: a string in its own character set and collation, which the
// variable keeps (router.AssignedLiteral).
func (s *Session) assignedLiterals(fields []merge.Field, rows [][][]byte) ([][]string, error) {
	mode := s.mode()
	info := s.env.Snap.Load().Info
	out := make([][]string, len(rows))
	for r, row := range rows {
		out[r] = make([]string, len(row))
		for i, v := range row {
			var co backend.Collation
			if router.TakesCollation(&fields[i], v == nil) {
				co = collationOf(info, fields[i].Charset)
			}
			lit, err := router.AssignedLiteral(&fields[i], v, v == nil, mode, co.Charset, co.Name)
			if err != nil {
				return nil, err
			}
			out[r][i] = lit
		}
	}
	return out, nil
}

// readAssigned runs a plan whose rows variables take, with
// character_set_results NULL: each string comes as its bytes, and its
// column definition names its own collation (with the client's result
// charset, every string would name that one, and be converted to it).
// When variables do take them (assigned), a DECIMAL AVG comes with every
// digit of its quotient, as a variable keeps them.
func (s *Session) readAssigned(plan *router.Plan, assigned bool, row func(fields []merge.Field, vals [][]byte) (bool, error)) ([]merge.Field, error) {
	defer s.withVar("character_set_results", "NULL")()
	s.cli.Assigned = assigned
	defer func() { s.cli.Assigned = false }()
	return s.collect(plan, row)
}

// collect runs a plan of the proxy's own read and gives row its rows
// (exec.CollectFields).
func (s *Session) collect(plan *router.Plan, row func(fields []merge.Field, vals [][]byte) (bool, error)) ([]merge.Field, error) {
	s.cli.FixedTime = s.fixedTime()
	return exec.CollectFields(&s.cli, plan, s, s, row)
}

// collationOf returns the collation of a column definition's id (none
// when the servers are not known yet).
func collationOf(info *backend.ServerInfo, id uint16) backend.Collation {
	if info == nil {
		return backend.Collation{}
	}
	return info.Collations[id]
}

// fixedTime reports whether the session fixed @@timestamp (SET
// timestamp): the proxy then leaves the time to it.
func (s *Session) fixedTime() bool {
	if s.vars == nil {
		return false
	}
	_, fixed := s.vars.Var("timestamp")
	return fixed
}

// statementTime gives a statement whose parts the proxy runs apart
// (subqueries or tables it reads first, then the rest) the one time one
// server's statement sees, when it reads the clock and the session did
// not fix the time: each part's plan runs at it (router.Plan.At). done
// ends it, for the outermost caller.
func (s *Session) statementTime(stmt ast.Node) (at time.Time, done func()) {
	if !s.stmtTime.IsZero() || s.fixedTime() || !router.ReadsClock(stmt) {
		return s.stmtTime, func() {}
	}
	s.stmtTime = time.Now()
	return s.stmtTime, func() { s.stmtTime = time.Time{} }
}
