package router

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/shardgate/shardgate/router/merge"
)

// planAggregate plans aggregates whose groups span shards: the shards
// compute partial aggregates per group, sorted by the group keys; the
// merge combines equal groups, then applies HAVING, ORDER BY and LIMIT.
func (b *builder) planAggregate(sel *ast.SelectStmt, shape *selectShape, m *merger) error {
	if shape.wildcard {
		return errUnsupported("SELECT * together with aggregates or GROUP BY across shards")
	}
	if sel.Distinct {
		return errUnsupported("SELECT DISTINCT together with aggregates or GROUP BY across shards")
	}
	agg := &Aggregate{}
	m.agg = agg

	// Group keys: value and weight string helpers, shards sorted by them.
	var groupExprs []ast.ExprNode
	if sel.GroupBy != nil {
		for _, it := range sel.GroupBy.Items {
			e := it.Expr
			switch x := e.(type) {
			case *ast.PositionExpr:
				if x.N < 1 || x.N > len(shape.fieldExpr) {
					return errUnsupported("GROUP BY position %d", x.N) // (checkPositions answers first)
				}
				e = shape.fieldExpr[x.N-1]
			case *ast.ColumnNameExpr:
				if x.Name.Table.O == "" {
					for _, f := range sel.Fields.Fields {
						if f.AsName.O != "" && strings.EqualFold(f.AsName.O, x.Name.Name.O) {
							e = f.Expr
						}
					}
				}
			}
			if hasAggregate(e) {
				return errUnsupported("GROUP BY an aggregate")
			}
			groupExprs = append(groupExprs, e)
		}
	}
	type helperKey struct {
		val, wt   int // wt -1: the merge compares the values (collation)
		position  bool
		collation *merge.Collation
	}
	var gh []helperKey
	for _, e := range groupExprs {
		h := helperKey{val: m.addHelper(sel, e)}
		h.wt, h.position, h.collation = b.sortKey(sel, e, m)
		gh = append(gh, h)
	}

	// Aggregate columns in the SELECT list.
	type pendingFunc struct {
		f                     AggFunc
		wt, sum, cnt, val, ln int // helper ordinals, -1 none
		valWt                 int
	}
	var pfs []pendingFunc
	var computed []int // visible columns that are expressions over aggregates
	// DISTINCT aggregates over a column that decides the shard are plain
	// partials; others need the shards to group by their argument too,
	// which works for one argument (any number of aggregates over it).
	distinctVal, distinctWt := -1, -1
	distinctPos := false
	distinctText := ""
	var minMaxArgs []string // MIN/MAX arguments in the SELECT list
	for i, f := range sel.Fields.Fields {
		fn, ok := f.Expr.(*ast.AggregateFuncExpr)
		if !ok {
			if hasAggregate(f.Expr) {
				// Computed after the merge from merged aggregates; the
				// shards' value only gives MySQL's result type.
				computed = append(computed, i)
			}
			continue // a group key or a constant: the group's first row has it
		}
		p := pendingFunc{f: AggFunc{Col: Col{Index: i}}, wt: -1, sum: -1, cnt: -1, val: -1, valWt: -1, ln: -1}
		name := strings.ToLower(fn.F)
		if name == "group_concat" {
			// The shards' results join in any order: MySQL's without
			// ORDER BY. (Its arguments end with the separator.)
			sep, ok := fn.Args[len(fn.Args)-1].(ast.ValueExpr)
			switch {
			case fn.Distinct || fn.Order != nil:
				return errUnsupported("GROUP_CONCAT() with DISTINCT or ORDER BY across shards")
			case !ok:
				return errUnsupported("GROUP_CONCAT() with this separator across shards")
			case b.env.ResultsCharset != "utf8mb4" && !isASCII(sep.GetString()):
				// The limit counts the bytes of the result's character set;
				// the rows may come in another.
				return errUnsupported("GROUP_CONCAT() with a separator beyond ASCII across shards unless character_set_results is utf8mb4")
			case readsField(sel, i, f):
				return errUnsupported("ordering or filtering by a GROUP_CONCAT() across shards")
			}
			p.f.Kind, p.f.Sep = AggGroupConcat, sep.GetString()
			// How long each shard's result is where its limit counts (the
			// rows may come shorter, in another character set).
			p.ln = m.addHelper(sel, &ast.FuncCallExpr{FnName: ast.NewCIStr("LENGTH"), Args: []ast.ExprNode{fn}})
			pfs = append(pfs, p)
			continue
		}
		if fn.Distinct && len(fn.Args) == 1 && b.isLocalColumn(fn.Args[0]) {
			switch name {
			case "count":
				p.f.Kind = AggCount
			case "sum":
				p.f.Kind = AggSum
			case "avg":
				p.f.Kind = AggAvg
				p.sum = m.addHelper(sel, &ast.AggregateFuncExpr{F: "sum", Args: fn.Args, Distinct: true})
				p.cnt = m.addHelper(sel, &ast.AggregateFuncExpr{F: "count", Args: fn.Args, Distinct: true})
			default:
				return errUnsupported("%s(DISTINCT ...) across shards", strings.ToUpper(name))
			}
			pfs = append(pfs, p)
			continue
		}
		if fn.Distinct && (name == "min" || name == "max") {
			fn.Distinct = false // MIN(DISTINCT x) is MIN(x)
		}
		if fn.Distinct && b.zipPass && len(fn.Args) == 1 && exprText(fn.Args[0]) != b.onlyDistinct {
			// Another pass computes this one (distinctPasses gave each
			// DISTINCT argument one): any cheap value will do. One of
			// several arguments has none, and is planned (or refused) here.
			p.f.Kind = AggCount
			pfs = append(pfs, p)
			continue
		}
		if fn.Distinct {
			if len(fn.Args) != 1 {
				return errUnsupported("%s(DISTINCT) of several expressions across shards", strings.ToUpper(name))
			}
			text := exprText(fn.Args[0])
			if distinctVal < 0 {
				distinctText = text
				distinctVal = m.addHelper(sel, fn.Args[0])
				distinctWt, distinctPos = b.sortWeight(sel, fn.Args[0], m)
			} else if text != distinctText {
				return errUnsupported("DISTINCT aggregates over different expressions (%s, %s) across shards", distinctText, text)
			}
			switch name {
			case "count":
				p.f.Kind = AggCountDistinct
			case "sum":
				p.f.Kind = AggSumDistinct
			case "avg":
				p.f.Kind = AggAvgDistinct
			default:
				return errUnsupported("%s(DISTINCT ...) across shards", strings.ToUpper(name))
			}
			p.val, p.valWt = distinctVal, distinctWt
			pfs = append(pfs, p)
			continue
		}
		switch name {
		case "count":
			p.f.Kind = AggCount
		case "sum":
			p.f.Kind = AggSum
		case "min", "max":
			p.f.Kind = AggMin
			if name == "max" {
				p.f.Kind = AggMax
			}
			fn.Distinct = false // MIN(DISTINCT x) is MIN(x)
			p.wt = m.addHelper(sel, weightString(f.Expr))
			if len(fn.Args) == 1 {
				minMaxArgs = append(minMaxArgs, exprText(fn.Args[0]))
			}
		case "avg":
			p.f.Kind = AggAvg
			p.sum = m.addHelper(sel, &ast.AggregateFuncExpr{F: "sum", Args: fn.Args})
			p.cnt = m.addHelper(sel, &ast.AggregateFuncExpr{F: "count", Args: fn.Args})
		case "bit_or":
			p.f.Kind = AggBitOr // the bits of the shards' results, combined alike
		case "bit_and":
			p.f.Kind = AggBitAnd
		case "bit_xor":
			p.f.Kind = AggBitXor
		default:
			return errUnsupported("%s() across shards", strings.ToUpper(fn.F))
		}
		pfs = append(pfs, p)
	}

	if distinctPos && slices.Contains(minMaxArgs, distinctText) {
		// The shards group by the column too, and then answer MIN/MAX of
		// it as the ENUM/SET column, where MySQL gives a string.
		return errUnsupported("MIN/MAX of ENUM/SET column %s beside a DISTINCT aggregate of it across shards", distinctText)
	}

	// ORDER BY: after the merge the rows are in group-key order; anything
	// else is sorted in memory (top-N with LIMIT).
	items, err := orderItems(sel, shape)
	if err != nil {
		return err
	}
	sameAsGroup := len(items) <= len(groupExprs)
	desc := false
	for i, it := range items {
		if !sameAsGroup {
			break
		}
		if it.expr == nil || exprText(it.expr) != exprText(groupExprs[i]) {
			sameAsGroup = false
			break
		}
		if i == 0 {
			desc = it.desc
		} else if it.desc != desc {
			sameAsGroup = false
		}
	}
	// Without GROUP BY there is one row: nothing to sort.
	sameAsGroup = sameAsGroup || len(groupExprs) == 0
	// Rows sorted otherwise than by the group keys are kept first in a
	// temporary table on one server, where an AVG is rounded to its
	// scale: what expressions and variables then see.
	agg.Stored = len(items) > 0 && !sameAsGroup
	// HAVING and ORDER BY may name aggregates the SELECT list lacks: they
	// become helper columns merged like the others.
	hc := &havingCompiler{b: b, sel: sel, m: m, agg: agg, visible: shape.visible}
	var compute *Compute
	for _, i := range computed {
		e, err := hc.compile(sel.Fields.Fields[i].Expr)
		if err != nil && !readsField(sel, i, sel.Fields.Fields[i]) {
			// A server computes it after the merge, when it can.
			if se, serr := hc.serverExpr(sel.Fields.Fields[i].Expr); serr == nil {
				e, err = se, nil
			}
		}
		if err != nil {
			return err
		}
		if compute == nil {
			compute = &Compute{}
		}
		compute.Cols = append(compute.Cols, i)
		compute.Exprs = append(compute.Exprs, e)
		compute.Texts = append(compute.Texts, exprText(sel.Fields.Fields[i].Expr))
	}
	var having Expr
	if sel.Having != nil {
		var err error
		hc.afterSelect = true
		if having, err = hc.compile(sel.Having.Expr); err != nil {
			return err
		}
		m.havingText = exprText(sel.Having.Expr)
		sel.Having = nil
	}
	type memKey struct {
		col  *colExpr
		wt   int              // helper ordinal of a weight string, -1 none
		pos  bool             // ...of an ENUM/SET position
		coll *merge.Collation // or the collation the merge compares by
		desc bool
	}
	var memKeys []memKey
	if len(items) > 0 && !sameAsGroup {
		desc = false
		for _, it := range items {
			k := memKey{wt: -1, desc: it.desc}
			idx := it.position
			text := exprText(it.expr)
			if idx < 0 && it.expr != nil {
				for i := 0; i < shape.visible; i++ {
					if shape.fieldExpr[i] != nil && exprText(shape.fieldExpr[i]) == text {
						idx = i
						break
					}
				}
			}
			switch {
			case idx >= 0:
				k.col = &colExpr{col: Col{Index: idx}, helper: -1}
				// A string column sorts by its weight: a group key's or a
				// MIN/MAX's helper.
				for gi, g := range groupExprs {
					if shape.fieldExpr[idx] != nil && exprText(g) == exprText(shape.fieldExpr[idx]) {
						k.wt, k.pos, k.coll = gh[gi].wt, gh[gi].position, gh[gi].collation
					}
				}
				for _, p := range pfs {
					if p.f.Col.Index == idx && p.wt >= 0 {
						k.wt = p.wt
					}
				}
			case it.expr != nil && groupIndex(groupExprs, text) >= 0:
				// A grouped column the SELECT list leaves out: its helper.
				gi := groupIndex(groupExprs, text)
				k.col = &colExpr{helper: gh[gi].val}
				k.wt, k.pos, k.coll = gh[gi].wt, gh[gi].position, gh[gi].collation
			case it.expr != nil:
				fn, ok := it.expr.(*ast.AggregateFuncExpr)
				if !ok {
					return errUnsupported("ORDER BY %s after merging groups across shards unless it is in the SELECT list", text)
				}
				e, err := hc.aggregate(fn)
				if err != nil {
					return err
				}
				k.col = e.(*colExpr)
			default:
				return errUnsupported("this ORDER BY after merging groups across shards")
			}
			memKeys = append(memKeys, k)
		}
	}
	// Resolve helper ordinals now that every helper is added.
	if distinctVal >= 0 {
		// The shards group by the distinct argument too, so equal values
		// arrive next to each other.
		groupExprs = append(groupExprs, fieldExpr(sel, distinctVal))
		gh = append(gh, helperKey{val: distinctVal, wt: distinctWt, position: distinctPos})
		if sel.GroupBy == nil {
			sel.GroupBy = &ast.GroupByClause{}
		}
		sel.GroupBy.Items = append(sel.GroupBy.Items, &ast.ByItem{Expr: fieldExpr(sel, distinctVal)})
	}
	// Under ONLY_FULL_GROUP_BY the server takes a helper copying a grouped
	// expression for an ungrouped one: the shards group by the copies too
	// (by alias), which splits no group (equal values, equal weights).
	for gi, h := range gh {
		if _, col := unparen(groupExprs[gi]).(*ast.ColumnNameExpr); col {
			continue // a column's copies pass the check
		}
		for _, k := range []int{h.val, h.wt} {
			if k < 0 {
				continue
			}
			name := &ast.ColumnName{Name: ast.NewCIStr(fmt.Sprintf("%s%d", helperPrefix, k))}
			sel.GroupBy.Items = append(sel.GroupBy.Items, &ast.ByItem{Expr: &ast.ColumnNameExpr{Name: name}})
		}
	}
	var order []string
	for gi, h := range gh {
		k := SortKey{Col: m.helperCol(h.val), Desc: desc, Position: h.position, Collation: h.collation}
		if h.wt >= 0 {
			k.Weight, k.HasWeight = m.helperCol(h.wt), true
		}
		if distinctVal < 0 || gi < len(gh)-1 {
			agg.Group = append(agg.Group, k)
		}
		m.keys = append(m.keys, k)
		item := fmt.Sprintf("%s%d", helperPrefix, h.val)
		if h.position { // the union's type is no ENUM
			item = fmt.Sprintf("%s%d", helperPrefix, h.wt)
		}
		if desc {
			item += " DESC"
		}
		order = append(order, item)
	}
	if len(order) > 0 {
		b.replaceOrder(sel, order)
	} else {
		sel.OrderBy = nil
	}
	for _, p := range pfs {
		f := p.f
		if p.wt >= 0 {
			f.Weight, f.HasWeight = m.helperCol(p.wt), true
		}
		if p.sum >= 0 {
			f.Sum, f.Count = m.helperCol(p.sum), m.helperCol(p.cnt)
		}
		if p.ln >= 0 {
			f.Len = m.helperCol(p.ln)
		}
		if p.val >= 0 {
			f.Value = m.helperCol(p.val)
			f.Weight, f.HasWeight, f.Position = m.helperCol(p.valWt), true, distinctPos
		}
		agg.Funcs = append(agg.Funcs, f)
	}
	for _, f := range hc.funcs {
		f.resolve(m)
		agg.Funcs = append(agg.Funcs, f.f)
	}
	if having != nil {
		having.resolve(m)
		m.having = having
	}
	if compute != nil {
		for _, e := range compute.Exprs {
			e.resolve(m)
		}
		m.compute = compute
	}
	for _, k := range memKeys {
		k.col.resolve(m)
		sk := SortKey{Col: k.col.col, Desc: k.desc, Collation: k.coll}
		if k.wt >= 0 {
			sk.Weight, sk.HasWeight, sk.Position = m.helperCol(k.wt), true, k.pos
		}
		m.memSort = append(m.memSort, sk)
	}
	sel.Limit = nil
	return nil
}

func groupIndex(groupExprs []ast.ExprNode, text string) int {
	for i, g := range groupExprs {
		if exprText(g) == text {
			return i
		}
	}
	return -1
}

// fieldExpr returns the expression of helper k.
func fieldExpr(sel *ast.SelectStmt, k int) ast.ExprNode {
	name := fmt.Sprintf("%s%d", helperPrefix, k)
	for _, f := range sel.Fields.Fields {
		if f.AsName.O == name {
			return f.Expr
		}
	}
	return nil
}

// isLocalColumn reports whether e is a column that decides the shard.
func (b *builder) isLocalColumn(e ast.ExprNode) bool {
	cn, ok := e.(*ast.ColumnNameExpr)
	if !ok {
		return false
	}
	r := b.columnRef(cn.Name)
	return r >= 0 && b.tables[r].anchor(cn.Name.Name.O) != ""
}

// exprText prints an expression in a canonical form, for comparing.
func exprText(e ast.Node) string {
	if e == nil {
		return ""
	}
	var sb strings.Builder
	_ = e.Restore(format.NewRestoreCtx(format.RestoreKeyWordLowercase|format.RestoreNameLowercase|format.RestoreStringSingleQuotes, &sb))
	return sb.String()
}

// readsField reports whether the ORDER BY or HAVING of sel reads select
// field i (f): by position, by alias, or as the expression it repeats.
func readsField(sel *ast.SelectStmt, i int, f *ast.SelectField) bool {
	text, found := exprText(f.Expr), false
	look := visitFunc(func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.PositionExpr:
			found = x.N == i+1
		case *ast.ColumnNameExpr:
			found = x.Name.Table.L == "" && f.AsName.L != "" && x.Name.Name.L == f.AsName.L
		}
		if e, ok := n.(ast.ExprNode); ok && !found {
			found = exprText(e) == text
		}
		return !found
	})
	if sel.OrderBy != nil {
		sel.OrderBy.Accept(look)
	}
	if sel.Having != nil && !found {
		sel.Having.Accept(look)
	}
	return found
}
