package router

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
)

// ServerExpr is a select-list expression over aggregates that the proxy
// does not evaluate itself (string and date functions, FORMAT, CAST...):
// after the merge, a server evaluates it with the merged values written
// in as literals (CONCAT(COUNT(*), '-', SUM(qty)) as CONCAT(2114, '-',
// 11653)), which mean what the aggregates mean. Its arguments are
// aggregates whose merged values are exact (COUNT, SUM, MIN, MAX)
// and group keys; AVG is not one (MySQL computes on with digits it does
// not show). Not in ORDER BY or HAVING, and without functions whose value
// depends on when or where they run.
type ServerExpr struct {
	// Parts is the expression cut at its arguments: Parts[0] Args[0]
	// Parts[1] ... Args[n-1] Parts[n].
	Parts []string
	Args  []Expr // colExpr: the merged columns written in
	Mode  parser.Mode
}

// Eval is never called: the executor evaluates a ServerExpr on a server.
func (s *ServerExpr) Eval(func(Col) Num) Num { return Num{Null: true} }

func (s *ServerExpr) resolve(m *merger) {
	for _, a := range s.Args {
		a.resolve(m)
	}
}

// ArgCols are the columns of the merged row written in for the arguments.
func (s *ServerExpr) ArgCols() []Col {
	cols := make([]Col, len(s.Args))
	for i, a := range s.Args {
		cols[i] = a.(*colExpr).col
	}
	return cols
}

// Text writes the expression with its arguments' literals.
func (s *ServerExpr) Text(lits []string) string {
	var b strings.Builder
	for i, p := range s.Parts {
		b.WriteString(p)
		if i < len(lits) {
			b.WriteString(lits[i])
		}
	}
	return b.String()
}

// serverExpr compiles e as a ServerExpr, or says why it cannot be one.
func (c *havingCompiler) serverExpr(e ast.ExprNode) (*ServerExpr, error) {
	var args []Expr
	var bad error
	marks := map[ast.Node]ast.Node{}
	// arg writes a merged column in place of x.
	arg := func(x ast.Node, a Expr, err error) bool {
		if bad = err; err == nil {
			marks[x] = ast.NewValueExpr(pullMark(len(args)), "", "")
			args = append(args, a)
		}
		return false
	}
	e.Accept(visitFunc(func(n ast.Node) bool {
		if bad != nil {
			return false
		}
		switch x := n.(type) {
		case *ast.AggregateFuncExpr:
			switch strings.ToLower(x.F) {
			case "count", "sum", "min", "max":
			default:
				bad = errUnsupported("%s() inside an expression evaluated after merging shards", strings.ToUpper(x.F))
				return false
			}
			a, err := c.aggregate(x)
			return arg(x, a, err)
		case *ast.ColumnNameExpr:
			a, err := c.column(x)
			return arg(x, a, err)
		case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr, *ast.WindowFuncExpr, *ast.VariableExpr, *ast.DefaultExpr, *ast.ValuesExpr:
			bad = errUnsupported("this expression after merging shards (%s)", exprText(e))
			return false
		case *ast.FuncCallExpr:
			if timeDependent[x.FnName.L] {
				bad = errUnsupported("%s() over aggregates across shards (evaluated after the merge, at another time)", strings.ToUpper(x.FnName.L))
				return false
			}
		}
		return true
	}))
	if bad != nil {
		return nil, bad
	}
	for _, a := range args {
		if _, ok := a.(*colExpr); !ok {
			return nil, errUnsupported("this expression after merging shards (%s)", exprText(e))
		}
	}
	// Printed as the one field of a SELECT, in the session's sql_mode.
	stmts, err := parser.ParseMode("SELECT 1", c.b.env.Mode)
	if err != nil {
		return nil, err
	}
	sel := stmts[0].(*ast.SelectStmt)
	sel.Fields.Fields[0].Expr = e
	undo := map[ast.Node]ast.Node{}
	for orig, m := range marks {
		undo[m] = orig
	}
	replace(sel, marks)
	text, err := parser.RestoreMode([]ast.StmtNode{sel}, c.b.env.Mode)
	replace(sel, undo)
	if m, ok := marks[e]; ok && sel.Fields.Fields[0].Expr == m {
		sel.Fields.Fields[0].Expr = e
	}
	if err != nil {
		return nil, err
	}
	text = strings.TrimPrefix(text, "SELECT ")
	s := &ServerExpr{Args: args, Mode: c.b.env.Mode}
	for i := range args {
		before, after, ok := strings.Cut(text, "'"+pullMark(i)+"'")
		if !ok {
			return nil, errUnsupported("this expression after merging shards (%s)", exprText(e))
		}
		s.Parts = append(s.Parts, before)
		text = after
	}
	s.Parts = append(s.Parts, text)
	return s, nil
}

// timeDependent are functions whose value depends on when they run: after
// the merge they would not give the statement's.
var timeDependent = map[string]bool{
	"now": true, "current_timestamp": true, "localtime": true, "localtimestamp": true, "sysdate": true,
	"curdate": true, "current_date": true, "curtime": true, "current_time": true, "unix_timestamp": true,
	"utc_date": true, "utc_time": true, "utc_timestamp": true, "rand": true, "uuid": true, "uuid_short": true,
	"connection_id": true, "last_insert_id": true, "found_rows": true, "row_count": true, "database": true,
	"schema": true, "user": true, "current_user": true, "session_user": true, "system_user": true,
	"sleep": true, "benchmark": true, "get_lock": true, "release_lock": true, "is_free_lock": true,
	"is_used_lock": true, "master_pos_wait": true, "master_gtid_wait": true, "nextval": true, "lastval": true,
	"setval": true, "load_file": true,
}
