package parser

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
)

// restoreNode prints one node. The TiDB parser keeps CHAR(a, b USING cs) as
// char_func(a, b, 'cs') (NULL in the charset's place without USING) and
// prints it under that name, which no server knows. When the text shows
// one, the calls are printed again as written.
func restoreNode(n ast.Node, flags format.RestoreFlags, b *strings.Builder) error {
	var one strings.Builder
	if err := n.Restore(format.NewRestoreCtx(flags, &one)); err != nil {
		return err
	}
	if !strings.Contains(strings.ToLower(one.String()), ast.CharFunc) {
		b.WriteString(one.String())
		return nil
	}
	var calls charFuncs
	n.Accept(&calls)
	undo := calls.asWritten()
	defer undo()
	return n.Restore(format.NewRestoreCtx(flags, b))
}

// charFuncs collects the CHAR() calls of a tree.
type charFuncs []*ast.FuncCallExpr

func (c *charFuncs) Enter(n ast.Node) (ast.Node, bool) {
	// The router shares subtrees (an expression and its helpers), so a
	// call may be met more than once.
	if f, ok := n.(*ast.FuncCallExpr); ok && f.FnName.L == ast.CharFunc && len(f.Args) > 0 && !slices.Contains(*c, f) {
		*c = append(*c, f)
	}
	return n, false
}

func (c *charFuncs) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// asWritten turns the calls into CHAR(args [USING cs]) for one restore and
// returns what puts them back: the tree may be printed or walked again.
func (c charFuncs) asWritten() (undo func()) {
	type saved struct {
		name ast.CIStr
		tp   ast.FuncCallExprType
		args []ast.ExprNode
	}
	old := make([]saved, len(c))
	for i, f := range c {
		old[i] = saved{f.FnName, f.Tp, f.Args}
		args := append([]ast.ExprNode(nil), f.Args[:len(f.Args)-1]...)
		if v, ok := f.Args[len(f.Args)-1].(ast.ValueExpr); ok && v.GetValue() != nil && len(args) > 0 {
			if cs, ok := v.GetValue().(string); ok {
				args[len(args)-1] = usingCharset{args[len(args)-1], cs}
			}
		}
		f.FnName, f.Tp, f.Args = ast.NewCIStr("CHAR"), ast.FuncCallExprTypeKeyword, args
	}
	return func() {
		for i, f := range c {
			f.FnName, f.Tp, f.Args = old[i].name, old[i].tp, old[i].args
		}
	}
}

// usingCharset prints CHAR()'s last argument followed by its USING clause.
type usingCharset struct {
	ast.ExprNode
	charset string
}

func (u usingCharset) Restore(ctx *format.RestoreCtx) error {
	if err := u.ExprNode.Restore(ctx); err != nil {
		return err
	}
	ctx.WriteKeyWord(" USING ")
	ctx.WriteName(u.charset)
	return nil
}
