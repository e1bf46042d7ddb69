package router

import (
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/router/merge"
)

// Subqueries the proxy runs first. The planner refuses a statement whose
// subquery one server cannot answer with the rest of it (its tables live
// on other nodes, or it reads several shards). An uncorrelated subquery
// in a condition means what its result means, so the session runs it on
// its own (planned as any SELECT, merged across shards), writes the
// result in its place and plans the statement again:
//
//	x = (SELECT MAX(a) FROM t)     its one value: NULL without a row, error 1242 past one
//	x [NOT] IN (SELECT a FROM t)   the list of its values; none: FALSE (TRUE for NOT IN)
//	[NOT] EXISTS (SELECT ...)      TRUE or FALSE
//
// A write's subqueries (UPDATE, DELETE, INSERT ... SELECT) are read with
// shared locks, as InnoDB reads them there, in the write's transaction.
// Only conditions (WHERE, HAVING, ON) are searched: in the select list,
// GROUP BY or ORDER BY the literal's type would change the result's
// columns; VALUES are left alone. A SET's or DO's value that is a
// subquery as a whole is pulled too (SET @n = (SELECT COUNT(*) FROM t)):
// the variable takes the literal's type, and a string its column's
// collation (Assign, AssignedLiteral).
// Not pulled either: ANY/ALL, a subquery that names a table of the
// statement around it (correlated), IN with LIMIT (MariaDB refuses it),
// and any subquery of a statement with WITH (it could read the
// statement's names) or of a locking read (its rows would be read
// without locks).

// PulledKind is how a pulled subquery's result replaces it.
type PulledKind uint8

const (
	PullScalar PulledKind = iota
	PullIn
	PullExists
)

// Pulled is a subquery to run before its statement.
type Pulled struct {
	Kind PulledKind
	// Query is the subquery: a *ast.SelectStmt or *ast.SetOprStmt.
	Query ast.ResultSetNode
	// Not: NOT IN, NOT EXISTS.
	Not bool
	// Lock: a write's subquery, read in the write's transaction with
	// shared locks as InnoDB reads it there (held to its end), or with the
	// locks its query names (KeysFirst's FOR UPDATE).
	Lock bool
	// Assign: a SET's value as a whole, which a variable takes with its
	// type (AssignedLiteral).
	Assign bool
	expr   ast.ExprNode // what the result replaces
	// What each result column's strings are compared with (StringLiteral):
	// partners, read in the FROM clause around them (from); none known
	// when nil. same: the subquery's own columns (KeysFirst's keys);
	// discarded: the value is not used (DO).
	partners  []ast.ExprNode
	from      *ast.TableRefsClause
	same      bool
	discarded bool
	types     []string // partners' types, once read (StringLiteral)
	columns   []bool   // partners that are a table's columns (IMPLICIT)
}

// MaxPulledBytes bounds the literal text of a statement's pulled results:
// an IN list past it is refused.
const MaxPulledBytes = 1 << 20

// ErrPulledTooBig refuses an IN list past MaxPulledBytes.
var ErrPulledTooBig = errUnsupported("a subquery across shards or nodes whose values the proxy would put in the statement past %d KiB: its rows are read first, then sent as a list", MaxPulledBytes>>10)

// Placement reports whether err is the planner's refusal of a statement
// whose tables one server cannot answer together (cross-node or
// cross-shard joins and subqueries): the refusals pulling subqueries
// out may cure.
func Placement(err error) bool {
	var me *mysql.MyError
	if !Refused(err) || !errors.As(err, &me) {
		return false
	}
	return strings.HasSuffix(me.Message, ": cross-node joins") || strings.HasSuffix(me.Message, ": cross-shard joins") ||
		strings.HasSuffix(me.Message, ": cross-shard subqueries")
}

// Refused reports the planner's refusal, error 1235 ("shardgate does not
// support ...").
func Refused(err error) bool {
	var me *mysql.MyError
	return errors.As(err, &me) && me.Code == mysql.ER_NOT_SUPPORTED_YET
}

// Pullable returns the subqueries of stmt's conditions the proxy may run
// first, outermost only (each one's own subqueries are its plan's
// business); none when stmt is not a plain SELECT, UPDATE, DELETE or
// INSERT ... SELECT (whose SELECT is searched).
func Pullable(stmt ast.StmtNode) []*Pulled {
	write := false
	var walk ast.Node = stmt
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		if s.Kind != ast.SelectStmtKindSelect || s.SelectIntoOpt != nil {
			return nil
		}
	case *ast.SetOprStmt:
	case *ast.UpdateStmt, *ast.DeleteStmt:
		write = true
	case *ast.InsertStmt:
		if s.Select == nil {
			return nil // (VALUES are values, not conditions)
		}
		write, walk = true, s.Select
	case *ast.SetStmt:
		values := make([]ast.ExprNode, len(s.Variables))
		for i, v := range s.Variables {
			values[i] = v.Value
		}
		return wholeValues(values, true)
	case *ast.DoStmt:
		subs := wholeValues(s.Exprs, false)
		for _, p := range subs {
			p.discarded = true
		}
		return subs
	default:
		return nil
	}
	f := &pullFinder{lock: write}
	walk.Accept(f)
	if f.refuse {
		return nil
	}
	return f.found
}

// wholeValues are the values that are a subquery as a whole; assign:
// variables take them.
func wholeValues(values []ast.ExprNode, assign bool) []*Pulled {
	f := &pullFinder{}
	for _, v := range values {
		if sub, ok := v.(*ast.SubqueryExpr); ok && !sub.Exists && f.add(PullScalar, sub.Query, false, sub) {
			f.found[len(f.found)-1].Assign = assign
		}
	}
	return f.found
}

// pullFinder collects the pullable subqueries of a statement's conditions.
type pullFinder struct {
	found  []*Pulled
	refuse bool // WITH, a locking read
	lock   bool // a write's: read with shared locks
	// froms: the FROM clauses of the statements around the node visited;
	// partners: what a scalar subquery is compared with.
	froms    []*ast.TableRefsClause
	partners map[*ast.SubqueryExpr]ast.ExprNode
}

func (f *pullFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.WithClause:
		f.refuse = true
		return n, true
	case *ast.SelectStmt:
		if x.LockInfo != nil && x.LockInfo.LockType != ast.SelectLockNone {
			f.refuse = true
		}
		f.froms = append(f.froms, x.From)
	case *ast.UpdateStmt:
		f.froms = append(f.froms, x.TableRefs)
	case *ast.DeleteStmt:
		f.froms = append(f.froms, x.TableRefs)
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE, opcode.NullEQ:
			f.comparedWith(x.L, x.R)
			f.comparedWith(x.R, x.L)
		}
	case *ast.PatternLikeOrIlikeExpr:
		f.comparedWith(x.Pattern, x.Expr)
		f.comparedWith(x.Expr, x.Pattern)
	case *ast.SelectField, *ast.GroupByClause, *ast.OrderByClause, *ast.Limit, *ast.WindowSpec, *ast.Assignment:
		return n, true
	case *ast.CompareSubqueryExpr:
		// = ANY is IN, <> ALL is NOT IN (NULLs alike); other comparisons
		// with ANY or ALL stay.
		sub, ok := x.R.(*ast.SubqueryExpr)
		if ok && (x.Op == opcode.EQ && !x.All || x.Op == opcode.NE && x.All) && !hasLimit(sub.Query) && f.add(PullIn, sub.Query, x.All, x) {
			f.last().partners = rowValues(x.L)
		}
		return n, true
	case *ast.PatternInExpr:
		if sub, ok := x.Sel.(*ast.SubqueryExpr); ok {
			if !hasLimit(sub.Query) && f.add(PullIn, sub.Query, x.Not, x) {
				f.last().partners = rowValues(x.Expr)
			}
			return n, true
		}
	case *ast.ExistsSubqueryExpr:
		if sub, ok := x.Sel.(*ast.SubqueryExpr); ok {
			f.add(PullExists, sub.Query, x.Not, x)
		}
		return n, true
	case *ast.SubqueryExpr:
		if f.add(PullScalar, x.Query, false, x) {
			if e, ok := f.partners[x]; ok {
				f.last().partners = rowValues(e)
			}
		}
		return n, true
	}
	return n, false
}

func (f *pullFinder) Leave(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.SelectStmt, *ast.UpdateStmt, *ast.DeleteStmt:
		f.froms = f.froms[:len(f.froms)-1]
	}
	return n, true
}

func (f *pullFinder) last() *Pulled { return f.found[len(f.found)-1] }

// comparedWith notes that e, when a scalar subquery, is compared with
// other.
func (f *pullFinder) comparedWith(e, other ast.ExprNode) {
	if sub, ok := unparen(e).(*ast.SubqueryExpr); ok && !sub.Exists {
		if f.partners == nil {
			f.partners = map[*ast.SubqueryExpr]ast.ExprNode{}
		}
		f.partners[sub] = other
	}
}

// rowValues is what each column of a subquery's rows is compared with:
// a row's values, or e.
func rowValues(e ast.ExprNode) []ast.ExprNode {
	if row, ok := unparen(e).(*ast.RowExpr); ok {
		return row.Values
	}
	return []ast.ExprNode{e}
}

func (f *pullFinder) add(kind PulledKind, q ast.ResultSetNode, not bool, expr ast.ExprNode) bool {
	switch q.(type) {
	case *ast.SelectStmt:
	case *ast.SetOprStmt:
		if f.lock {
			return false // (a UNION takes no locking clause)
		}
	default:
		return false
	}
	if correlated(q) {
		return false
	}
	p := &Pulled{Kind: kind, Query: q, Not: not, Lock: f.lock, expr: expr}
	if len(f.froms) > 0 {
		p.from = f.froms[len(f.froms)-1]
	}
	f.found = append(f.found, p)
	return true
}

func hasLimit(q ast.ResultSetNode) bool {
	switch s := q.(type) {
	case *ast.SelectStmt:
		return s.Limit != nil
	case *ast.SetOprStmt:
		return s.Limit != nil
	}
	return false
}

// correlated reports whether a subquery names a table it does not read
// itself (the statement around it), or locks. A column without a table
// name is the subquery's own when one of its tables has it, as SQL
// resolves it; one that belongs to the statement around it makes the
// subquery, run alone, fail with 1054, which the session reads as
// correlated.
func correlated(q ast.ResultSetNode) bool {
	own := map[string]bool{}
	q.Accept(visitFunc(func(n ast.Node) bool {
		if ts, ok := n.(*ast.TableSource); ok {
			if ts.AsName.L != "" {
				own[ts.AsName.L] = true
			} else if tn, ok := ts.Source.(*ast.TableName); ok {
				own[tn.Name.L] = true
			}
		}
		return true
	}))
	outer := false
	q.Accept(visitFunc(func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.ColumnName:
			if x.Table.L != "" && !own[x.Table.L] {
				outer = true
			}
		case *ast.SelectStmt:
			if x.LockInfo != nil && x.LockInfo.LockType != ast.SelectLockNone {
				outer = true
			}
		}
		return !outer
	}))
	return outer
}

// SQL prints the subquery as a statement of its own; EXISTS's with LIMIT 1
// (when it has no LIMIT): one row tells; a write's LOCK IN SHARE MODE.
func (p *Pulled) SQL(mode parser.Mode) (string, error) {
	stmt, ok := p.Query.(ast.StmtNode)
	if !ok {
		return "", mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: a subquery that is not a statement")
	}
	text, err := parser.RestoreMode([]ast.StmtNode{stmt}, mode)
	if err == nil && p.Kind == PullExists && !hasLimit(p.Query) {
		text += " LIMIT 1"
	}
	if sel, locks := p.Query.(*ast.SelectStmt); p.Lock && !(locks && sel.LockInfo != nil) {
		text += " LOCK IN SHARE MODE"
	}
	return text, err
}

// Text is what replaces a pulled subquery, from its result's rows (each
// value a literal of PulledLiteral): a scalar's value in parentheses,
// EXISTS's truth, IN's list ("" when empty: Inline writes the whole
// IN's truth).
func (p *Pulled) Text(rows [][]string) (string, error) {
	row := func(r []string) string {
		if len(r) == 1 {
			return r[0]
		}
		return "(" + strings.Join(r, ", ") + ")"
	}
	switch p.Kind {
	case PullScalar:
		switch {
		case len(rows) == 0:
			return "(NULL)", nil
		case len(rows) > 1:
			return "", mysql.NewDefaultError(mysql.ER_SUBQUERY_NO_1_ROW)
		}
		return "(" + row(rows[0]) + ")", nil
	case PullExists:
		return truth((len(rows) > 0) != p.Not), nil
	}
	var b strings.Builder
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row(r))
	}
	return b.String(), nil
}

func truth(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Inline prints stmt with each pulled subquery replaced by its text
// (texts[i] for subs[i], from Text), and leaves stmt as it was.
func Inline(stmt ast.StmtNode, subs []*Pulled, texts []string, mode parser.Mode) (string, error) {
	marks := make(map[ast.Node]ast.Node, len(subs))
	undo := make(map[ast.Node]ast.Node, len(subs))
	var inLists []*ast.PatternInExpr
	mark := func(i int) ast.ExprNode { return ast.NewValueExpr(pullMark(i), "", "") }
	for i, p := range subs {
		if cmp, isCmp := p.expr.(*ast.CompareSubqueryExpr); isCmp && texts[i] != "" {
			// x = ANY (list) is written x IN (list).
			in := &ast.PatternInExpr{Expr: cmp.L, List: []ast.ExprNode{mark(i)}, Not: p.Not}
			marks[cmp], undo[in] = in, cmp
			continue
		}
		in, isIn := p.expr.(*ast.PatternInExpr)
		if (isIn || p.Kind == PullIn) && texts[i] == "" {
			// x IN (no rows) is FALSE, whatever x is (NULL too).
			texts[i] = truth(p.Not)
		} else if isIn {
			// x IN (list): the list takes the subquery's place.
			in.List, in.Sel = []ast.ExprNode{mark(i)}, nil
			inLists = append(inLists, in)
			continue
		}
		m := mark(i)
		marks[p.expr], undo[m] = m, p.expr
	}
	replace(stmt, marks)
	text, err := parser.RestoreMode([]ast.StmtNode{stmt}, mode)
	replace(stmt, undo)
	for _, in := range inLists {
		for _, p := range subs {
			if p.expr == in {
				in.List, in.Sel = nil, &ast.SubqueryExpr{Query: p.Query}
			}
		}
	}
	if err != nil {
		return "", err
	}
	return fillMarks(text, "'", texts, "a subquery's place")
}

// fillMarks replaces each pullMark(i), quoted and after prefix, in text
// by texts[i].
func fillMarks(text, prefix string, texts []string, what string) (string, error) {
	for i := range texts {
		placed := prefix + pullMark(i) + "'"
		if !strings.Contains(text, placed) {
			return "", mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: lost "+what+" while writing it in")
		}
		text = strings.Replace(text, placed, texts[i], 1)
	}
	return text, nil
}

// pullMark stands for a result while the statement is printed; the
// control characters keep it from being any literal a client wrote.
func pullMark(i int) string { return "\x01shardgate-pulled-" + strconv.Itoa(i) + "\x01" }

// replace swaps the nodes of stmt found in with.
func replace(stmt ast.Node, with map[ast.Node]ast.Node) {
	stmt.Accept(&replacer{fn: func(n ast.Node) ast.Node {
		if m, ok := with[n]; ok {
			return m
		}
		return n
	}})
}

// PulledLiteral writes a value of a pulled subquery's result as a literal
// that compares as the value does: numbers as printed (a DOUBLE with an
// exponent), dates and times typed, binary strings in hex, other strings
// quoted (the session checks they come in the client's character set).
func PulledLiteral(f *merge.Field, v []byte, null bool, mode parser.Mode) (string, error) {
	if null {
		return "NULL", nil
	}
	switch f.Type {
	case mysql.MYSQL_TYPE_FLOAT:
		return "", errUnsupported("a FLOAT value (%s) of a subquery across shards or nodes, which the proxy runs first: its text loses digits; select CAST(%s AS DOUBLE)", f.Name, f.Name)
	case mysql.MYSQL_TYPE_BIT, mysql.MYSQL_TYPE_GEOMETRY:
		return "", errUnsupported("a BIT or geometry value (%s) of a subquery across shards or nodes, which the proxy runs first", f.Name)
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		return typedLiteral("DATE", v, mode)
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2:
		return typedLiteral("TIMESTAMP", v, mode)
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		return typedLiteral("TIME", v, mode)
	}
	if lit, ok := NumberLiteral(f.Type, v); ok {
		return lit, nil
	}
	if f.Charset == 63 {
		return "X'" + hex.EncodeToString(v) + "'", nil
	}
	return parser.LiteralText(string(v), mode)
}

// AssignedLiteral is PulledLiteral for a value a variable takes whole
// (Pulled.Assign). A variable keeps a string's collation, where a literal
// would have the connection's: a string is written as its bytes, read
// unconverted, in its character set and collation (charset and
// collation, what its column definition names when the rows come with
// character_set_results NULL). Refused when they are not known, or
// disagree.
func AssignedLiteral(f *merge.Field, v []byte, null bool, mode parser.Mode, charset, collation string) (string, error) {
	if !TakesCollation(f, null) {
		return PulledLiteral(f, v, null, mode)
	}
	lit, ok := collatedLiteral(v, charset, collation)
	if !ok {
		return "", errUnsupported("a string (%s) that a variable takes from rows of several shards or nodes, in a collation the proxy does not know (id %d): the variable would keep it", f.Name, f.Charset)
	}
	return lit, nil
}

// collatedLiteral writes a string as its bytes in its character set and
// collation, named (EXPLICIT); ok is false when they are not known, or
// disagree.
func collatedLiteral(v []byte, charset, collation string) (string, bool) {
	if charset == "" || charsetOf(collation) != charset {
		return "", false
	}
	return "_" + charset + " X'" + hex.EncodeToString(v) + "' COLLATE " + collation, true
}

// TakesCollation reports whether a value of field f is a string with a
// collation (see AssignedLiteral).
func TakesCollation(f *merge.Field, null bool) bool {
	return !null && f.Charset != 63 && StringType(f.Type)
}

func typedLiteral(kind string, v []byte, mode parser.Mode) (string, error) {
	s, err := parser.LiteralText(string(v), mode)
	return kind + " " + s, err
}

// NumberLiteral writes a number as it came, a DOUBLE with an exponent (so
// that it reads back as a DOUBLE); ok is false for other types.
func NumberLiteral(typ byte, v []byte) (string, bool) {
	switch typ {
	case mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_SHORT,
		mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_YEAR:
		return string(v), true
	case mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_FLOAT:
		if strings.ContainsAny(string(v), "eE") || strings.ContainsAny(string(v), "naNinf") {
			return string(v), true
		}
		return string(v) + "e0", true
	}
	return "", false
}

// Placeholders are texts for Inline that keep each pulled subquery's
// parameter markers, in order, in a subquery that reads no table: a
// prepared statement's metadata comes from preparing it on one node,
// where the pulled subqueries' tables may not be.
func Placeholders(subs []*Pulled) []string {
	texts := make([]string, len(subs))
	for i, p := range subs {
		n := 0
		p.Query.Accept(visitFunc(func(x ast.Node) bool {
			if _, ok := x.(*test_driver.ParamMarkerExpr); ok {
				n++
			}
			return true
		}))
		q := "SELECT NULL FROM DUAL"
		if n > 0 {
			q += " WHERE COALESCE(?" + strings.Repeat(", ?", n-1) + ") IS NULL"
		}
		switch p.Kind {
		case PullScalar:
			texts[i] = "(" + q + ")"
		case PullIn:
			texts[i] = q
		default:
			texts[i] = "EXISTS (" + q + ")"
			if p.Not {
				texts[i] = "NOT " + texts[i]
			}
		}
	}
	return texts
}
