package router

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// KeysFirst turns an UPDATE or DELETE of one sharded table with ORDER BY
// and LIMIT, which no shard can run alone (the first rows in that order
// may be on any), into a read and a write: the read takes the keys of the
// rows to change, merged in that order across shards and limited, and
// locks them (FOR UPDATE); the write changes the rows of those keys,
// still ordered, without LIMIT:
//
//	DELETE FROM orders WHERE qty > 5 ORDER BY created LIMIT 2
//	SELECT id, user_id FROM orders WHERE qty > 5 ORDER BY created LIMIT 2 FOR UPDATE
//	DELETE FROM orders WHERE qty > 5 AND (id, user_id) IN (...) ORDER BY created
//
// The keys are the table's primary key and its sharding column (a key
// without it is unique per shard only). It rewrites stmt and returns the
// read as a Pulled subquery (its rows written in with Inline); nil when
// the statement is not such a write.
func KeysFirst(stmt ast.StmtNode, env *Env) *Pulled {
	var where *ast.ExprNode
	var order *ast.OrderByClause
	var limit **ast.Limit
	var refs *ast.TableRefsClause
	switch s := stmt.(type) {
	case *ast.UpdateStmt:
		if s.MultipleTable {
			return nil
		}
		where, order, limit, refs = &s.Where, s.Order, &s.Limit, s.TableRefs
	case *ast.DeleteStmt:
		if s.IsMultiTable {
			return nil
		}
		where, order, limit, refs = &s.Where, s.Order, &s.Limit, s.TableRefs
	default:
		return nil
	}
	if order == nil || *limit == nil || (*limit).Offset != nil || refs == nil || refs.TableRefs == nil || refs.TableRefs.Right != nil {
		return nil
	}
	ts, ok := refs.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok || env.Keys == nil {
		return nil
	}
	b := &builder{env: env, stmt: stmt}
	if b.resolve() != nil || len(b.tables) != 1 || !b.tables[0].sharded() {
		return nil
	}
	t := b.tables[0]
	keys, err := env.Keys(t.schema, t.ref.Name)
	if err != nil || len(keys) == 0 {
		return nil
	}
	if !slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, t.rule.Column) }) {
		keys = append(keys, t.rule.Column)
	}
	qualifier := ts.AsName
	if qualifier.L == "" {
		qualifier = tn.Name
	}
	var fields []*ast.SelectField
	var cols []ast.ExprNode
	for _, k := range keys {
		// (information_schema's names come as UTF-8; the statement is in
		// the client's character set)
		k, err := ClientName(k, env.ForeignCharset)
		if err != nil {
			return nil
		}
		col := func() ast.ExprNode {
			return &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: qualifier, Name: ast.NewCIStr(k)}}
		}
		fields = append(fields, &ast.SelectField{Expr: col()})
		cols = append(cols, col())
	}
	read := &ast.SelectStmt{
		Kind:           ast.SelectStmtKindSelect,
		SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
		Fields:         &ast.FieldList{Fields: fields},
		From:           &ast.TableRefsClause{TableRefs: &ast.Join{Left: &ast.TableSource{Source: tn, AsName: ts.AsName}}},
		Where:          *where,
		OrderBy:        order,
		Limit:          *limit,
		LockInfo:       &ast.SelectLockInfo{LockType: ast.SelectLockForUpdate},
	}
	var key ast.ExprNode = cols[0]
	if len(cols) > 1 {
		key = &ast.RowExpr{Values: cols}
	}
	in := &ast.PatternInExpr{Expr: key, Sel: &ast.SubqueryExpr{Query: read}}
	if *where == nil {
		*where = in
	} else {
		*where = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: &ast.ParenthesesExpr{Expr: *where}, R: in}
	}
	*limit = nil
	return &Pulled{Kind: PullIn, Query: read, Lock: true, expr: in, same: true}
}
