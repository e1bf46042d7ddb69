package router

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/router/merge"
)

// ServerExpr is a select-list expression over aggregates that the proxy
// does not evaluate itself (string and date functions, FORMAT, CAST...):
// after the merge, a server evaluates it with the merged values written
// in as literals (CONCAT(COUNT(*), '-', SUM(qty)) as CONCAT(2114, '-',
// 11653)), which mean what the aggregates mean. Its arguments are
// aggregates whose merged values are exact (COUNT, SUM, MIN, MAX)
// and group keys; AVG is not one (MySQL computes on with digits it does
// not show). Not in ORDER BY or HAVING, and without functions whose value
// depends on when or where they run. A string argument is written in its
// own character set and collation (ServerArgLiteral), which a helper
// column, COLLATION(argument), tells: the rows name the client's.
type ServerExpr struct {
	// Parts is the expression cut at its arguments: Parts[0] Args[0]
	// Parts[1] ... Args[n-1] Parts[n].
	Parts []string
	Args  []Expr   // colExpr: the merged columns written in
	Colls []Expr   // colExpr: each argument's COLLATION() helper (nil: a number)
	Names []string // each argument's text, for messages
	Mode  parser.Mode
	// Results is the character set the rows' strings come in
	// (Env.RowsCharset).
	Results string
	// Coercibility: the expression calls COERCIBILITY(), which tells the
	// derivation a named collation changes (see ServerArgLiteral).
	Coercibility bool
}

// Eval is never called: the executor evaluates a ServerExpr on a server.
func (s *ServerExpr) Eval(func(Col) Num) Num { return Num{Null: true} }

func (s *ServerExpr) resolve(m *merger) {
	for _, a := range s.Args {
		a.resolve(m)
	}
	for _, a := range s.Colls {
		if a != nil {
			a.resolve(m)
		}
	}
}

// ArgCols are the columns of the merged row written in for the arguments.
func (s *ServerExpr) ArgCols() []Col { return colsOf(s.Args) }

// CollCols are the columns of the merged row holding each argument's
// collation (Index -1: none, a number).
func (s *ServerExpr) CollCols() []Col { return colsOf(s.Colls) }

func colsOf(es []Expr) []Col {
	cols := make([]Col, len(es))
	for i, a := range es {
		cols[i] = Col{Index: -1}
		if a != nil {
			cols[i] = a.(*colExpr).col
		}
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
	var nodes []ast.ExprNode // each argument's expression
	var bad error
	coercibility := false
	marks := map[ast.Node]ast.Node{}
	// arg writes a merged column in place of x.
	arg := func(x ast.ExprNode, a Expr, err error) bool {
		if bad = err; err == nil {
			marks[x] = ast.NewValueExpr(pullMark(len(args)), "", "")
			args = append(args, a)
			nodes = append(nodes, x)
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
			coercibility = coercibility || x.FnName.L == "coercibility"
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
	s := &ServerExpr{Args: args, Mode: c.b.env.Mode, Coercibility: coercibility, Results: c.b.env.RowsCharset}
	for i := range args {
		before, after, ok := strings.Cut(text, "'"+pullMark(i)+"'")
		if !ok {
			return nil, errUnsupported("this expression after merging shards (%s)", exprText(e))
		}
		s.Parts = append(s.Parts, before)
		text = after
	}
	s.Parts = append(s.Parts, text)
	for _, x := range nodes {
		s.Names = append(s.Names, exprText(x))
		if a, ok := x.(*ast.AggregateFuncExpr); ok && (strings.EqualFold(a.F, "count") || strings.EqualFold(a.F, "sum")) {
			s.Colls = append(s.Colls, nil) // a number
			continue
		}
		k := c.m.addHelper(c.sel, &ast.FuncCallExpr{FnName: ast.NewCIStr("COLLATION"), Args: []ast.ExprNode{x}})
		s.Colls = append(s.Colls, &colExpr{helper: k})
	}
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

// ServerArgLiteral writes a ServerExpr's argument: a string in its own
// character set and collation (collation, its COLLATION() helper's value;
// defaultColl, that it is its character set's default), converted back
// from the rows' (results, see Env.RowsCharset) as the server had it
// before it sent it: CONVERT(_utf8mb4 X'c3a9' USING latin1) is 'é' in
// latin1, one byte, where a literal would be two in the connection's
// character set. A
// default collation is left to CONVERT, which gives it with the column's
// IMPLICIT derivation; another is named (COLLATE, EXPLICIT: the executor
// refuses what that would change, see CheckDerivation). Refused where
// a character may have been lost on the way (MariaDB sends those as '?'):
// rows not in UTF-8, beyond ASCII; utf8mb3 rows of a character set beyond
// it; rows in another character set than the string's, beyond ASCII.
func ServerArgLiteral(f *merge.Field, v []byte, null bool, mode parser.Mode, results, collation string, defaultColl bool) (string, error) {
	if !TakesCollation(f, null) {
		return PulledLiteral(f, v, null, mode)
	}
	cs := charsetOf(collation)
	if !PlainName(cs) || !PlainName(collation) {
		return "", errUnsupported("a string (%s) written into an expression computed after merging shards, of a collation the proxy could not learn", f.Name)
	}
	var src string
	switch {
	case results == "binary" || results == cs: // as the server had it
		src = "_" + cs + " X'" + hex.EncodeToString(v) + "'"
	case results == "utf8mb4",
		results == "utf8mb3" && (!slices.Contains(beyondUTF8MB3, cs) || !bytes.Contains(v, []byte("?"))):
		src = "_" + results + " X'" + hex.EncodeToString(v) + "'"
	case isASCII(string(v)) && !bytes.Contains(v, []byte("?")):
		lit, err := parser.LiteralText(string(v), mode)
		if err != nil {
			return "", err
		}
		src = lit
	default:
		return "", errUnsupported("a string (%s) of character set %s written into an expression computed after merging shards, which reaches the proxy in the client's character set (%s) where characters may be lost: SET NAMES utf8mb4", f.Name, cs, cmp.Or(results, "unknown"))
	}
	lit := "CONVERT(" + src + " USING " + cs + ")"
	if !defaultColl {
		lit += " COLLATE " + collation
	}
	return lit, nil
}

// beyondUTF8MB3 are the character sets with characters utf8mb3 lacks.
var beyondUTF8MB3 = []string{"utf8mb4", "utf16", "utf16le", "utf32"}

// CheckDerivation refuses an expression whose string arguments a
// named collation (EXPLICIT, where the columns are IMPLICIT) would answer
// otherwise than one server: read by COERCIBILITY(), or beside a string
// of another collation, unless the named one is utf8mb4's and the other
// of a character set it holds (the server converts that one to utf8mb4
// and keeps the named collation too; else its "illegal mix of
// collations" would become the named one winning). colls are the string
// arguments' collations, named whether each is named in its literal.
func (s *ServerExpr) CheckDerivation(colls []string, named []bool) error {
	for i, n := range named {
		if !n {
			continue
		}
		if s.Coercibility {
			return errUnsupported("COERCIBILITY() of a string of collation %s computed after merging shards (its literal names the collation)", colls[i])
		}
		cs, _, _ := strings.Cut(colls[i], "_")
		for _, c := range colls {
			if other, _, _ := strings.Cut(c, "_"); c != colls[i] && (cs != "utf8mb4" || other == "utf8mb4") {
				return errUnsupported("strings of collations %s and %s in one expression computed after merging shards (their literals name a collation the server would not let win)", colls[i], c)
			}
		}
	}
	return nil
}
