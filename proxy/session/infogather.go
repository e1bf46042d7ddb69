package session

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
)

// infoSchemaGathered answers a SELECT over information_schema in a sharded
// schema that no node can answer over its own rows (groups, aggregates,
// DISTINCT, subqueries, joins pairing rows of different tables): each
// table about tables it reads is gathered, every node's rows under
// logical names (infoRows), into a derived table of the same columns and
// types, and one server runs the statement over them as the client wrote
// it, DATABASE() being its schema. (A derived table, not a temporary one:
// a READ ONLY transaction may read it.)
func (s *Session) infoSchemaGathered(sel *ast.SelectStmt, names *parser.Names, snap *snapshot.Snapshot) error {
	var tables []string // upper case, as information_schema names them
	for _, r := range names.Refs {
		if t := strings.ToUpper(r.Name); infoTables[t] != [2]string{} && !slices.Contains(tables, t) {
			tables = append(tables, t)
		}
	}
	nodes := s.userNodes(snap)
	if len(nodes) == 0 {
		return s.writeErr(mysql.NewDefaultError(mysql.ER_NO_DB_ERROR))
	}
	mode := s.mode()
	text, err := gatheredQuery(sel, tables, s.schema, mode)
	if err != nil {
		return s.writeErr(unsupported("this information_schema query in a sharded schema: " + err.Error()))
	}
	for _, t := range tables {
		all, err := parser.Parse("SELECT * FROM information_schema.`" + t + "`")
		if err != nil {
			return s.writeErr(mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: "+err.Error()))
		}
		one := all[0].(*ast.SelectStmt)
		rows, err := s.infoRows(one, infoRefs(parser.CollectNames(one)), snap)
		if err != nil {
			return s.handleExecErr(err)
		}
		derived, err := gatheredRows(t, rows, mode)
		if err != nil {
			return s.handleExecErr(err)
		}
		text = strings.ReplaceAll(text, backend.QuoteIdent(gatheredPrefix+t), "("+derived+")")
	}
	if len(text) > maxRowsText {
		return s.writeErr(errRowsTooBig)
	}
	res, err := s.nodeQuery(nodes[0], text)
	if err != nil {
		return s.handleExecErr(err)
	}
	res.write(s)
	return s.flush()
}

// maxRowsText bounds the rows the proxy writes into a statement for a
// server to read (gathered information_schema tables, a SHOW's rows): a
// server's max_allowed_packet is 16 MiB by default, and one it refuses
// closes the connection.
const maxRowsText = 8 << 20

// errRowsTooBig refuses a statement whose rows would pass maxRowsText.
var errRowsTooBig = unsupported("this statement over information_schema or SHOW ... WHERE in a sharded schema: its rows, which a server reads as literals, pass 8 MiB (read the tables without GROUP BY, subqueries or joins of different tables, or SHOW with LIKE)")

// gatheredPrefix starts the name standing in for a gathered table in a
// restored statement, until its rows take its place.
const gatheredPrefix = "__sg_gathered_"

// gatheredRows is the query of a gathered table: information_schema's
// table t read for its columns alone, then rows' values, each typed as its
// column (a string takes the column's collation in the union).
func gatheredRows(t string, rows *nodeResult, mode parser.Mode) (string, error) {
	var b strings.Builder
	b.WriteString("SELECT * FROM information_schema." + backend.QuoteIdent(t) + " WHERE FALSE")
	if len(rows.rows) == 0 {
		return b.String(), nil
	}
	casts := make([]string, len(rows.defs))
	for i, d := range rows.defs {
		c, err := wire.ParseColumnDef(d)
		if err != nil {
			return "", err
		}
		casts[i] = castFor(c.Type, c.Flags)
	}
	b.WriteString(" UNION ALL VALUES ")
	if err := appendValues(&b, rows.rows, casts, mode, false); err != nil {
		return "", err
	}
	if b.Len() > maxRowsText {
		return "", errRowsTooBig
	}
	return b.String(), nil
}

// appendValues writes rows as a VALUES list, (...), (...): each value a
// literal, cast to casts[i] when that is set (a string is one already),
// NULL as NULL; numbered, each row ends with its number.
func appendValues(b *strings.Builder, rows [][][]byte, casts []string, mode parser.Mode, numbered bool) error {
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, v := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			cast := ""
			if j < len(casts) {
				cast = casts[j]
			}
			lit, err := typedLiteral(v, cast, mode)
			if err != nil {
				return err
			}
			b.WriteString(lit)
		}
		if numbered {
			b.WriteString(", " + strconv.Itoa(i))
		}
		b.WriteByte(')')
	}
	return nil
}

// typedLiteral is v as a literal (NULL for nil) of the type cast names
// (see castFor; "": a string, which a literal is already): a bare NULL
// would make its column DECIMAL, a bare string a string.
func typedLiteral(v []byte, cast string, mode parser.Mode) (string, error) {
	lit := "NULL"
	if v != nil {
		var err error
		if lit, err = parser.LiteralText(string(v), mode); err != nil {
			return "", err
		}
	}
	if cast == "" {
		return lit, nil
	}
	return "CAST(" + lit + " AS " + cast + ")", nil
}

// castFor is the CAST type that keeps a value of a column of type typ
// that type in a union ("" for a string: a literal is one).
func castFor(typ byte, flags uint16) string {
	switch typ {
	case mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_TINY:
		if flags&mysql.UNSIGNED_FLAG != 0 {
			return "UNSIGNED"
		}
		return "SIGNED"
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2:
		return "DATETIME"
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		return "DATE"
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		return "TIME"
	case mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_DECIMAL:
		return "DECIMAL(65,30)"
	case mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_FLOAT:
		return "DOUBLE"
	}
	return ""
}

// gatheredQuery is sel reading the gathered tables (named gatheredPrefix
// and the table, for their rows to take the place of) instead of
// information_schema's, DATABASE() being schema, the client's names kept
// for what it qualifies and shows.
func gatheredQuery(sel *ast.SelectStmt, tables []string, schema string, mode parser.Mode) (string, error) {
	router.KeepFieldNames(sel) // COUNT(*) restored is COUNT(1): keep the name the client wrote
	stmts, err := parser.Parse(parser.RestoreExpr(sel))
	if err != nil {
		return "", err
	}
	copySel := stmts[0].(*ast.SelectStmt)
	// (Found before the tables are renamed.)
	lookups := map[*ast.SelectStmt]map[string][2]string{}
	copySel.Accept(eachNode(func(n ast.Node) {
		if s, ok := n.(*ast.SelectStmt); ok {
			lookups[s] = lookupColumns(s, tables)
		}
	}))
	names := &gatheredNames{tables: tables}
	copySel.Accept(names)
	copySel.Accept(&literalRewriter{schema: schema, db: schema, current: schema})
	exactLookups(copySel, lookups)
	text, err := parser.RestoreMode([]ast.StmtNode{copySel}, mode)
	if err == nil && strings.Count(text, "`"+gatheredPrefix) != names.renamed {
		// The client's own text names one: its rows would go there too.
		return "", errors.New("it names " + gatheredPrefix)
	}
	return text, err
}

// lookupColumns maps each qualifier of a gathered table read in the FROM
// of sel (not its subqueries') to the columns information_schema looks its
// rows up by, the database and table names; "" to those of the only
// gathered table of a FROM that reads one.
func lookupColumns(sel *ast.SelectStmt, tables []string) map[string][2]string {
	out := map[string][2]string{}
	var quals []string
	add := func(ts *ast.TableSource) {
		if tn, ok := ts.Source.(*ast.TableName); ok && slices.Contains(tables, strings.ToUpper(tn.Name.O)) {
			qual := ts.AsName.L
			if qual == "" {
				qual = tn.Name.L
			}
			out[qual] = infoTables[strings.ToUpper(tn.Name.O)]
			quals = append(quals, qual)
		}
	}
	var walk func(rs ast.ResultSetNode)
	walk = func(rs ast.ResultSetNode) {
		switch x := rs.(type) {
		case *ast.Join:
			walk(x.Left)
			walk(x.Right)
		case *ast.TableSource:
			add(x)
		}
	}
	if sel.From != nil {
		walk(sel.From.TableRefs)
	}
	if len(quals) == 1 {
		out[""] = out[quals[0]]
	}
	return out
}

// exactLookups keeps information_schema's answer to a condition naming one
// database or table: a server looks the name up (in a file system that
// tells case and trailing spaces apart) when the WHERE requires
// name = 'literal' (or IN of one), so 'SHOP ' finds nothing, where a
// gathered table would compare under its collation and find shop. Each
// such comparison becomes a binary one.
//
// lookups are each SELECT's own (lookupColumns): a correlated column's
// table is not looked up by what its subquery requires.
func exactLookups(sel *ast.SelectStmt, lookups map[*ast.SelectStmt]map[string][2]string) {
	var local map[string][2]string // the SELECT's whose WHERE is read
	exact := func(col, val ast.ExprNode) ast.ExprNode {
		c, ok := col.(*ast.ColumnNameExpr)
		if !ok {
			return nil
		}
		if _, ok := val.(ast.ValueExpr); !ok {
			return nil
		}
		names, ok := local[c.Name.Table.L]
		if !ok || (!strings.EqualFold(c.Name.Name.O, names[0]) && !strings.EqualFold(c.Name.Name.O, names[1])) {
			return nil
		}
		return &ast.FuncCastExpr{Expr: val, FunctionType: ast.CastBinaryOperator} // BINARY val
	}
	exactly := func(e ast.ExprNode) {
		switch x := e.(type) {
		case *ast.BinaryOperationExpr:
			if x.Op != opcode.EQ {
				return
			}
			if b := exact(x.L, x.R); b != nil {
				x.R = b
			} else if b := exact(x.R, x.L); b != nil {
				x.L = b
			}
		case *ast.PatternInExpr:
			if !x.Not && len(x.List) == 1 {
				if b := exact(x.Expr, x.List[0]); b != nil {
					x.List[0] = b
				}
			}
		}
	}
	sel.Accept(eachNode(func(n ast.Node) {
		if s, ok := n.(*ast.SelectStmt); ok && s.Where != nil {
			local = lookups[s]
			eachConjunct(s.Where, exactly)
		}
	}))
}

// gatheredNames points information_schema's tables about tables at the
// gathered ones.
type gatheredNames struct {
	tables  []string
	renamed int // the sources renamed
}

func (g *gatheredNames) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableSource:
		tn, ok := x.Source.(*ast.TableName)
		if !ok || !strings.EqualFold(tn.Schema.O, "information_schema") || !slices.Contains(g.tables, strings.ToUpper(tn.Name.O)) {
			return n, false
		}
		if x.AsName.O == "" {
			// Columns the client qualified with the name as it wrote it.
			x.AsName = tn.Name
		}
		tn.Schema, tn.Name = ast.NewCIStr(""), ast.NewCIStr(gatheredPrefix+strings.ToUpper(tn.Name.O))
		g.renamed++
		return n, true
	case *ast.ColumnName:
		if strings.EqualFold(x.Schema.O, "information_schema") && slices.Contains(g.tables, strings.ToUpper(x.Table.O)) {
			x.Schema = ast.NewCIStr("")
		}
	}
	return n, false
}

func (g *gatheredNames) Leave(n ast.Node) (ast.Node, bool) { return n, true }
