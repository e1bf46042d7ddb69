package session

import (
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
// its values: numbers and dates; a string is refused (AssignedLiteral).
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
	mode := s.mode()
	var vars []backend.Var
	rows := 0
	fields, err := exec.CollectFields(&s.cli, plan, s, s, func(fields []merge.Field, vals [][]byte) (bool, error) {
		if rows++; rows > 1 {
			return false, mysql.NewDefaultError(mysql.ER_TOO_MANY_ROWS)
		}
		if len(vals) != len(into.Vars) {
			return false, mysql.NewDefaultError(mysql.ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT)
		}
		for i, v := range vals {
			lit, err := router.AssignedLiteral(&fields[i], v, v == nil, mode)
			if err != nil {
				return false, err
			}
			vars = append(vars, backend.Var{Name: into.Vars[i], Value: lit})
		}
		return true, nil
	})
	if err == nil && len(fields) != len(into.Vars) {
		err = mysql.NewDefaultError(mysql.ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT)
	}
	if rows > 0 && len(vars) == len(into.Vars) {
		// (Once the connections are back: each then still has the old
		// values, and gets the new ones when next used.)
		s.vars = s.vars.With(true, vars...)
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
	return s.sendOK(wire.OK{AffectedRows: uint64(rows), Warnings: uint16(min(s.diag.warnings, 0xffff))})
}
