package router

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Build plans one parsed statement.
func Build(stmt ast.StmtNode, env *Env) (*Plan, error) {
	b := &builder{env: env, stmt: stmt}
	if err := b.resolve(); err != nil {
		return nil, err
	}
	keepFieldNames(stmt)
	var root Primitive
	var err error
	write := true
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		write = false
		root, err = b.planSelect(s)
	case *ast.SetOprStmt:
		write = false
		root, err = b.planUnion(s)
	case *ast.InsertStmt:
		root, err = b.planInsert(s)
	case *ast.UpdateStmt:
		root, err = b.planUpdate(s)
	case *ast.DeleteStmt:
		root, err = b.planDelete(s)
	case *ast.CreateTableStmt, *ast.AlterTableStmt, *ast.TruncateTableStmt, *ast.CreateIndexStmt, *ast.DropIndexStmt:
		root, err = b.planTableDDL()
	case *ast.DropTableStmt:
		if s.IsView {
			root, err = b.planWhole()
		} else {
			root, err = b.planDropTable(s)
		}
	case *ast.RenameTableStmt:
		root, err = b.planRename()
	default:
		root, err = b.planWhole()
	}
	if err != nil {
		return nil, err
	}
	p := &Plan{Root: root, Write: write}
	for _, t := range b.tables {
		if t.rule != nil {
			p.Tables = append(p.Tables, t.rule.Name)
		}
	}
	return p, nil
}

// keepFieldNames gives every computed select field its original text as
// alias: printing the statement again normalizes expressions (COUNT(*)
// becomes COUNT(1)), and the client must see the column names it would
// get from one MySQL.
func keepFieldNames(stmt ast.Node) {
	stmt.Accept(visitFunc(func(n ast.Node) bool {
		f, ok := n.(*ast.SelectField)
		if !ok || f.WildCard != nil || f.AsName.O != "" || f.Expr == nil {
			return true
		}
		switch f.Expr.(type) {
		case *ast.ColumnNameExpr, ast.ValueExpr:
			return true // named by the column, or by the literal's value
		}
		if t := strings.TrimSpace(f.Text()); t != "" {
			f.AsName = ast.NewCIStr(t)
		}
		return true
	}))
}

// planWhole sends a statement as it is to the one node its tables live on
// (views, procedures, DO, CALL, statements without tables).
func (b *builder) planWhole() (Primitive, error) {
	units, err := b.place(nil, true)
	if err != nil {
		return nil, err
	}
	if len(units) != 1 {
		if b.anySharded() {
			return nil, errUnsupported("this statement on sharded tables")
		}
		if _, ok := b.stmt.(ast.DDLNode); !ok {
			return nil, errUnsupported("this statement on global tables")
		}
	}
	return b.renderRoutes(units)
}

// planUnion plans UNION: whole on one node when everything lives there;
// otherwise UNION ALL parts are planned one by one and concatenated.
func (b *builder) planUnion(s *ast.SetOprStmt) (Primitive, error) {
	units, err := b.place(nil, false)
	if err == nil && len(units) == 1 {
		return b.renderRoutes(units)
	}
	if s.OrderBy != nil || s.Limit != nil || s.With != nil {
		return nil, errUnsupported("UNION with ORDER BY or LIMIT across shards")
	}
	var parts []Primitive
	for _, sel := range s.SelectList.Selects {
		if sel.(*ast.SelectStmt) != nil {
			st := sel.(*ast.SelectStmt)
			if st.AfterSetOperator != nil && *st.AfterSetOperator != ast.UnionAll {
				return nil, errUnsupported("UNION DISTINCT across shards (use UNION ALL)")
			}
		}
	}
	for _, sel := range s.SelectList.Selects {
		st, ok := sel.(*ast.SelectStmt)
		if !ok {
			return nil, errUnsupported("nested set operations across shards")
		}
		st.AfterSetOperator = nil
		sub := &builder{env: b.env, stmt: st}
		if err := sub.resolve(); err != nil {
			return nil, err
		}
		p, err := sub.planSelect(st)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return &Concat{Inputs: parts}, nil
}
