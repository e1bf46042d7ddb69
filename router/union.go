package router

import (
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"

	"github.com/shardgate/shardgate/router/merge"
)

// UnionColumns is what a scatter template learns about one route's
// results: the column definitions its shards' statements answered with.
// The executor records them from an execution that ran the statements one
// by one; later executions run the route's Union and give the client
// these definitions in place of the union's, when the union's agree on
// every name, type, character set and length. When they do not (the
// table changed since), the definitions are forgotten, to be recorded
// again; a route whose union disagrees again and again (or that the
// server refuses) goes back to one statement per shard for the
// template's life.
type UnionColumns struct {
	fields     atomic.Pointer[[]merge.Field]
	off        atomic.Bool
	mismatches atomic.Int32
}

// maxMismatches is how often a union may disagree with its recorded
// columns before it is turned off.
const maxMismatches = 3

// Fields returns the recorded definitions; nil when none are, or the
// union is off.
func (u *UnionColumns) Fields() []merge.Field {
	if u == nil || u.off.Load() {
		return nil
	}
	if f := u.fields.Load(); f != nil {
		return *f
	}
	return nil
}

// Record keeps (a copy of) the definitions one shard's statement
// answered with, unless some are kept already.
func (u *UnionColumns) Record(fields []merge.Field) {
	if u != nil && !u.off.Load() && u.fields.Load() == nil {
		kept := slices.Clone(fields)
		u.fields.CompareAndSwap(nil, &kept)
	}
}

// Off stops the route's union for the template's life.
func (u *UnionColumns) Off() { u.off.Store(true) }

// Disagreed forgets the recorded definitions, which a union's did not
// match: the next execution records them again (from the shards' own
// statements), unless this happened maxMismatches times.
func (u *UnionColumns) Disagreed() {
	u.fields.Store(nil)
	if u.mismatches.Add(1) >= maxMismatches {
		u.Off()
	}
}

// unionSafe says the shard statement of sel may stand in parentheses as
// one part of a UNION ALL and mean the same: no locking read, no INTO, no
// options a union part refuses or that would change what it counts.
func unionSafe(sel *ast.SelectStmt) bool {
	if sel.Kind != ast.SelectStmtKindSelect || sel.With != nil || sel.SelectIntoOpt != nil || len(sel.TableHints) > 0 {
		return false
	}
	if sel.LockInfo != nil && sel.LockInfo.LockType != ast.SelectLockNone {
		return false
	}
	if o := sel.SelectStmtOpts; o != nil {
		if o.CalcFoundRows || o.StraightJoin || o.SQLBigResult || o.SQLSmallResult || o.SQLBufferResult ||
			!o.SQLCache || o.Priority != mysql.NoPriority || len(o.TableHints) > 0 {
			return false
		}
	}
	return true
}

// unionOrder is the ORDER BY a node's union needs so that its rows arrive
// sorted as the merge above the scatter reads them: the merge keys'
// columns by position (the union's columns are the shard statement's, of
// which sel has fields). ok is false when a position is not known
// before the rows arrive (a helper counted from the end after a *).
func unionOrder(root Primitive, sel *ast.SelectStmt) (string, bool) {
	ms := mergeAboveScatter(root)
	if ms == nil {
		return "", true
	}
	wildcard := false
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			wildcard = true
		}
	}
	var sb strings.Builder
	for i, k := range ms.Keys {
		pos := k.Col.Index + 1
		if k.Col.FromEnd {
			if wildcard {
				return "", false
			}
			pos = len(sel.Fields.Fields) - k.Col.Index + 1
		}
		if i == 0 {
			sb.WriteString(" ORDER BY ")
		} else {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(pos))
		if k.Desc {
			sb.WriteString(" DESC")
		}
	}
	return sb.String(), true
}

// mergeAboveScatter is the MergeSort reading the plan's scatter, if any.
func mergeAboveScatter(p Primitive) *MergeSort {
	for {
		switch x := p.(type) {
		case *MergeSort:
			return x
		case singleInput:
			p = x.input()
		default:
			return nil
		}
	}
}

// unionText joins a node's shard statements into one UNION ALL ending
// with order, still cut at the markers: where one statement ends and the
// next begins, the two parts join into one.
func unionText(texts []text, order string) text {
	u := text{parts: []string{""}}
	for i, tx := range texts {
		glue := " UNION ALL ("
		if i == 0 {
			glue = "("
		}
		last := len(u.parts) - 1
		u.parts[last] += glue + tx.parts[0]
		u.parts = append(u.parts, tx.parts[1:]...)
		u.order = append(u.order, tx.order...)
		u.parts[len(u.parts)-1] += ")"
	}
	u.parts[len(u.parts)-1] += order
	return u
}
