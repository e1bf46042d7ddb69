package session

import (
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/router"
)

// returning answers MariaDB's INSERT, REPLACE or DELETE ... RETURNING in a
// sharded schema (TiDB's parser does not read RETURNING). The statement
// without it is planned as any other, then each statement it sends takes
// the RETURNING list (router.WithReturning): one statement's rows come to
// the client as they are, several statements' as one result
// (exec.runReturning). done is false when the text does not read as such
// a statement (the parser's error stands).
func (s *Session) returning(sql string, sum *parser.Summary, snap *snapshot.Snapshot) (done bool, err error) {
	text, list, ok := parser.CutReturning(sql)
	if !ok {
		return false, nil
	}
	stmt, err := s.parseOne(text)
	if err != nil {
		return false, nil
	}
	if e := s.checkReturning(list); e != nil {
		return true, s.writeErr(e)
	}
	plan, firstID, err := s.planStatement(stmt, func() (ast.StmtNode, error) { return s.parseOne(text) }, snap)
	if err == nil {
		plan, err = router.WithReturning(stmt, plan, list)
	}
	if err != nil {
		return true, s.handleExecErr(err)
	}
	return true, s.answerPlan(plan, stmt, sum, firstID)
}

// returningKind reports the kinds of statement MariaDB gives a RETURNING.
func returningKind(k parser.Kind) bool {
	return k == parser.KindInsert || k == parser.KindReplace || k == parser.KindDelete
}

// checkReturning refuses a RETURNING list the shard's server would answer
// otherwise than one server: one that names a table (the shard's is
// another), reads one in a subquery, or asks what the proxy answers
// itself (DATABASE(), CONNECTION_ID(), USER(), LAST_INSERT_ID()...).
func (s *Session) checkReturning(list string) *mysql.MyError {
	sel := "SELECT " + list
	stmt, err := s.parseOne(sel)
	if err != nil {
		return parseError(err, nil)
	}
	var sum parser.Summary
	parser.Scan(sel, &sum)
	const own = parser.FlagLastInsertID | parser.FlagPrevResult | parser.FlagConnectionID | parser.FlagDatabase |
		parser.FlagUser | parser.FlagSequence | parser.FlagDiagnostics | parser.FlagUserVarAssign
	why := ""
	if sum.Flags&own != 0 {
		why = "a function the proxy answers itself"
	}
	stmt.Accept(eachNode(func(n ast.Node) {
		switch x := n.(type) {
		case *ast.ColumnNameExpr:
			if x.Name.Table.O != "" {
				why = "a column named with its table (" + x.Name.Table.O + "." + x.Name.Name.O + ")"
			}
		case *ast.SubqueryExpr:
			why = "a subquery"
		}
	}))
	if why != "" {
		return unsupported("RETURNING with " + why + " in a sharded schema")
	}
	return nil
}

// eachNode calls fn on every node of a tree it visits.
type eachNode func(ast.Node)

func (f eachNode) Enter(n ast.Node) (ast.Node, bool) { f(n); return n, false }
func (f eachNode) Leave(n ast.Node) (ast.Node, bool) { return n, true }
