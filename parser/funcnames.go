package parser

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
)

// The TiDB parser names two functions internally and prints them under
// those names, which no server knows: INSERT(s, pos, len, new) is
// insert_func, and CHAR(a, b USING cs) is char_func(a, b, 'cs') (NULL in
// the charset's place without USING).
var internalNames = []string{ast.CharFunc, ast.InsertFunc}

// printedNames are those names as shardgate prints keywords (RestoreFlags:
// upper case).
var printedNames = []string{strings.ToUpper(ast.CharFunc), strings.ToUpper(ast.InsertFunc)}

// restoreNode prints one node. When the text shows an internal name, the
// calls are printed again as written.
func restoreNode(n ast.Node, flags format.RestoreFlags, b *strings.Builder) error {
	var one strings.Builder
	if err := n.Restore(format.NewRestoreCtx(flags, &one)); err != nil {
		return err
	}
	internal := slices.ContainsFunc(printedNames, func(name string) bool { return strings.Contains(one.String(), name) })
	share := strings.Contains(one.String(), "FOR SHARE")
	if !internal && !share {
		b.WriteString(one.String())
		return nil
	}
	var calls internalCalls
	n.Accept(&calls)
	undo := calls.asWritten()
	defer undo()
	if !share {
		return n.Restore(format.NewRestoreCtx(flags, b))
	}
	one.Reset()
	locks := shareLocks{}
	n.Accept(&locks)
	undoLocks := locks.marked()
	err := n.Restore(format.NewRestoreCtx(flags, &one))
	undoLocks()
	b.WriteString(locks.asWritten(one.String()))
	return err
}

// The TiDB parser reads LOCK IN SHARE MODE as FOR SHARE, MySQL 8's
// words, and prints those, which MariaDB does not know. shareLocks prints
// a SELECT's share lock as LOCK IN SHARE MODE (NOWAIT, SKIP LOCKED as
// written): the lock is printed as FOR UPDATE of a marker table, which is
// then replaced.
type shareLocks []*ast.SelectLockInfo

const shareMarker = "__sg_lock_in_share_mode"

func (l *shareLocks) Enter(n ast.Node) (ast.Node, bool) {
	if s, ok := n.(*ast.SelectStmt); ok && s.LockInfo != nil && len(s.LockInfo.Tables) == 0 && !slices.Contains(*l, s.LockInfo) {
		switch s.LockInfo.LockType {
		case ast.SelectLockForShare, ast.SelectLockForShareNoWait, ast.SelectLockForShareSkipLocked:
			*l = append(*l, s.LockInfo)
		}
	}
	return n, false
}

func (l *shareLocks) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// marked turns the locks into FOR UPDATE ... OF the marker, and returns
// what puts them back.
func (l shareLocks) marked() (undo func()) {
	old := make([]ast.SelectLockType, len(l))
	for i, li := range l {
		old[i] = li.LockType
		switch li.LockType {
		case ast.SelectLockForShare:
			li.LockType = ast.SelectLockForUpdate
		case ast.SelectLockForShareNoWait:
			li.LockType = ast.SelectLockForUpdateNoWait
		case ast.SelectLockForShareSkipLocked:
			li.LockType = ast.SelectLockForUpdateSkipLocked
		}
		li.Tables = []*ast.TableName{{Name: ast.NewCIStr(shareMarker)}}
	}
	return func() {
		for i, li := range l {
			li.LockType, li.Tables = old[i], nil
		}
	}
}

// asWritten replaces the marked locks in the printed text.
func (l shareLocks) asWritten(text string) string {
	if len(l) == 0 {
		return text
	}
	return strings.ReplaceAll(text, "FOR UPDATE OF `"+shareMarker+"`", "LOCK IN SHARE MODE")
}

// internalCalls collects the calls of a tree named internally.
type internalCalls []*ast.FuncCallExpr

func (c *internalCalls) Enter(n ast.Node) (ast.Node, bool) {
	// The router shares subtrees (an expression and its helpers), so a
	// call may be met more than once.
	if f, ok := n.(*ast.FuncCallExpr); ok && slices.Contains(internalNames, f.FnName.L) && !slices.Contains(*c, f) {
		*c = append(*c, f)
	}
	return n, false
}

func (c *internalCalls) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// asWritten names the calls as SQL does, CHAR(args [USING cs]), for one
// restore, and returns what puts them back: the tree may be printed or
// walked again.
func (c internalCalls) asWritten() (undo func()) {
	type saved struct {
		name ast.CIStr
		tp   ast.FuncCallExprType
		args []ast.ExprNode
	}
	old := make([]saved, len(c))
	for i, f := range c {
		old[i] = saved{f.FnName, f.Tp, f.Args}
		switch f.FnName.L {
		case ast.InsertFunc:
			f.FnName = ast.NewCIStr("INSERT")
		case ast.CharFunc:
			if len(f.Args) == 0 {
				continue
			}
			args := append([]ast.ExprNode(nil), f.Args[:len(f.Args)-1]...)
			if v, ok := f.Args[len(f.Args)-1].(ast.ValueExpr); ok && v.GetValue() != nil && len(args) > 0 {
				if cs, ok := v.GetValue().(string); ok {
					args[len(args)-1] = usingCharset{args[len(args)-1], cs}
				}
			}
			f.FnName, f.Args = ast.NewCIStr("CHAR"), args
		}
		f.Tp = ast.FuncCallExprTypeKeyword
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
