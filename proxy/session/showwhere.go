package session

import (
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
)

// rowsTable names the derived table of a SHOW's rows that its WHERE reads,
// and rowNumber the column numbering them.
const rowsTable, rowNumber = "__sg_rows", "__sg_row"

// rowsWhere returns the numbers of the rows that where keeps, as a
// server (dn's) evaluates it over them: the rows of a SHOW the proxy
// answers, whose columns are names, each value of SQL type casts[i] (""
// for a string). The server reads them as a derived table of literals.
func (s *Session) rowsWhere(dn *backend.DataNode, names, casts []string, rows [][][]byte, where ast.ExprNode) ([]int, error) {
	stmts, err := parser.Parse("SELECT `" + rowNumber + "` FROM `" + rowsTable + "`")
	if err != nil {
		return nil, err
	}
	stmts[0].(*ast.SelectStmt).Where = where
	mode := s.mode()
	text, err := parser.RestoreMode(stmts, mode)
	if err != nil {
		return nil, unsupported("this WHERE of a SHOW in a sharded schema: " + err.Error())
	}
	if strings.Count(text, rowsTable) != 1 {
		return nil, unsupported("a WHERE of a SHOW in a sharded schema naming " + rowsTable)
	}
	// A first SELECT names and types the columns, the rows follow.
	var b strings.Builder
	b.WriteString("SELECT ")
	for j, n := range names {
		typ := casts[j]
		if typ == "" {
			typ = "CHAR"
		}
		b.WriteString("CAST(NULL AS " + typ + ") AS " + backend.QuoteIdent(n) + ", ")
	}
	b.WriteString("0 AS `" + rowNumber + "` FROM DUAL WHERE FALSE")
	// Without rows the server still reads the WHERE, and says what is
	// wrong in it.
	if len(rows) > 0 {
		b.WriteString(" UNION ALL VALUES ")
		if err := appendValues(&b, rows, casts, mode, true); err != nil {
			return nil, err
		}
	}
	if b.Len() > maxRowsText {
		return nil, errRowsTooBig
	}
	text = strings.Replace(text, "`"+rowsTable+"`", "("+b.String()+") AS `"+rowsTable+"`", 1)
	res, err := s.nodeQuery(dn, text)
	if err != nil {
		return nil, err
	}
	kept := make([]int, 0, len(res.rows))
	for _, r := range res.rows {
		n, err := strconv.Atoi(string(r[0]))
		if err != nil || n < 0 || n >= len(rows) {
			return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: a SHOW's WHERE gave row "+string(r[0]))
		}
		kept = append(kept, n)
	}
	slices.Sort(kept) // (in the SHOW's order)
	return kept, nil
}

// keepRows is rows, those numbered kept (ascending) alone.
func keepRows[T any](rows []T, kept []int) []T {
	out := rows[:0]
	for _, n := range kept {
		out = append(out, rows[n])
	}
	return out
}
