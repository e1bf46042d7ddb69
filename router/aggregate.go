package router

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
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
					return errUnsupported("GROUP BY position %d", x.N)
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
	type helperKey struct{ val, wt int }
	var gh []helperKey
	for _, e := range groupExprs {
		gh = append(gh, helperKey{m.addHelper(sel, e), m.addHelper(sel, weightString(e))})
	}

	// Aggregate columns in the SELECT list.
	type pendingFunc struct {
		f                 AggFunc
		wt, sum, cnt, val int // helper ordinals, -1 none
		valWt             int
	}
	var pfs []pendingFunc
	distinctVal := -1
	for i, f := range sel.Fields.Fields {
		fn, ok := f.Expr.(*ast.AggregateFuncExpr)
		if !ok {
			if hasAggregate(f.Expr) {
				return errUnsupported("an expression over aggregates across shards (%s); select the aggregates and compute in the application", exprText(f.Expr))
			}
			continue // a group key or a constant: the group's first row has it
		}
		p := pendingFunc{f: AggFunc{Col: Col{Index: i}}, wt: -1, sum: -1, cnt: -1, val: -1, valWt: -1}
		name := strings.ToLower(fn.F)
		if fn.Distinct {
			if len(fn.Args) == 1 && b.isLocalColumn(fn.Args[0]) {
				// Equal values never meet across shards: plain partials.
			} else if name == "count" && len(fn.Args) == 1 {
				if distinctVal >= 0 {
					return errUnsupported("several COUNT(DISTINCT ...) across shards")
				}
				p.f.Kind = AggCountDistinct
				p.val = m.addHelper(sel, fn.Args[0])
				p.valWt = m.addHelper(sel, weightString(fn.Args[0]))
				distinctVal = len(pfs)
				pfs = append(pfs, p)
				continue
			} else {
				return errUnsupported("%s(DISTINCT ...) across shards", strings.ToUpper(name))
			}
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
			p.wt = m.addHelper(sel, weightString(f.Expr))
		case "avg":
			p.f.Kind = AggAvg
			p.sum = m.addHelper(sel, &ast.AggregateFuncExpr{F: "sum", Args: fn.Args})
			p.cnt = m.addHelper(sel, &ast.AggregateFuncExpr{F: "count", Args: fn.Args})
		default:
			return errUnsupported("%s() across shards", strings.ToUpper(fn.F))
		}
		pfs = append(pfs, p)
	}
	if distinctVal >= 0 && len(pfs) > 1 {
		return errUnsupported("COUNT(DISTINCT ...) together with other aggregates across shards")
	}

	if sel.Having != nil {
		if err := b.planHaving(sel, m, agg); err != nil {
			return err
		}
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
		if it.expr == nil || exprText(it.expr) != exprText(groupExprs[min(i, len(groupExprs)-1)]) {
			sameAsGroup = false
			break
		}
		if i == 0 {
			desc = it.desc
		} else if it.desc != desc {
			sameAsGroup = false
		}
	}
	var memItems []orderKey
	if len(items) > 0 && !sameAsGroup {
		memItems = items
		desc = false
	}
	// Resolve helper ordinals now that every helper is added.
	if distinctVal >= 0 {
		// The shards group by the counted value too, so equal values
		// arrive next to each other.
		p := pfs[distinctVal]
		groupExprs = append(groupExprs, fieldExpr(sel, p.val))
		gh = append(gh, helperKey{p.val, p.valWt})
		if sel.GroupBy == nil {
			sel.GroupBy = &ast.GroupByClause{}
		}
		sel.GroupBy.Items = append(sel.GroupBy.Items, &ast.ByItem{Expr: fieldExpr(sel, p.val)})
	}
	var order []string
	for gi, h := range gh {
		k := SortKey{Col: m.helperCol(h.val), Weight: m.helperCol(h.wt), HasWeight: true, Desc: desc}
		if distinctVal < 0 || gi < len(gh)-1 {
			agg.Group = append(agg.Group, k)
		}
		m.keys = append(m.keys, k)
		item := fmt.Sprintf("%s%d", helperPrefix, h.val)
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
		if p.val >= 0 {
			f.Value = m.helperCol(p.val)
			f.Weight, f.HasWeight = m.helperCol(p.valWt), true
		}
		agg.Funcs = append(agg.Funcs, f)
	}
	if memItems != nil {
		keys, err := b.mergedSortKeys(sel, memItems, shape)
		if err != nil {
			return err
		}
		m.memSort = keys
	}
	sel.Limit = nil
	return nil
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

// mergedSortKeys orders merged groups: by a visible column of the SELECT
// list (by position, alias or the same expression).
func (b *builder) mergedSortKeys(sel *ast.SelectStmt, items []orderKey, shape *selectShape) ([]SortKey, error) {
	var keys []SortKey
	for _, it := range items {
		idx := it.position
		if idx < 0 && it.expr != nil {
			text := exprText(it.expr)
			for i := 0; i < shape.visible; i++ {
				if shape.fieldExpr[i] != nil && exprText(shape.fieldExpr[i]) == text {
					idx = i
					break
				}
			}
		}
		if idx < 0 {
			return nil, errUnsupported("ORDER BY %s after merging groups across shards unless it is in the SELECT list", exprText(it.expr))
		}
		keys = append(keys, SortKey{Col: Col{Index: idx}, Desc: it.desc})
	}
	return keys, nil
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
