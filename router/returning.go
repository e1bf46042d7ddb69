package router

import "github.com/pingcap/tidb/pkg/parser/ast"

// WithReturning turns the plan of a write (stmt) into one whose
// statements return the rows they write (MariaDB's RETURNING list, as the
// client wrote it; it names no table): one statement keeps its form,
// several become a Returning. Refused where the rows cannot be given as
// one server gives them: writes the proxy runs in steps (LIMIT over
// shards, rows moved, rows looked up or copied first), an INSERT IGNORE of
// several statements, whose skipped rows return nothing (its rows' order
// would be lost), and a DELETE ... ORDER BY of several, whose rows come in
// that order.
func WithReturning(stmt ast.StmtNode, p *Plan, list string) (*Plan, error) {
	with := func(r *Route) *Route {
		c := *r
		c.SQL = make([]string, len(r.SQL))
		for i, sql := range r.SQL {
			c.SQL[i] = sql + " RETURNING " + list
		}
		return &c
	}
	var routes []*Route
	broadcast := false
	switch x := p.Root.(type) {
	case *Route:
		routes = []*Route{x}
	case *Scatter:
		routes = x.Routes
	case *Broadcast:
		routes, broadcast = x.Routes, true
	default:
		return nil, errUnsupported("INSERT, REPLACE or DELETE ... RETURNING that the proxy runs in steps (a LIMIT over several shards, a sharding key changed, rows looked up or copied first)")
	}
	n := 0
	for _, r := range routes {
		n += len(r.SQL)
	}
	if n > 1 && p.Insert == InsertIgnore {
		return nil, errUnsupported("INSERT IGNORE ... RETURNING over several shards: the rows it skips return nothing, and the others' order would be lost")
	}
	if del, ok := stmt.(*ast.DeleteStmt); ok && n > 1 && del.Order != nil {
		return nil, errUnsupported("DELETE ... ORDER BY ... RETURNING over several shards: its rows would not come in that order")
	}
	out := *p
	if n == 1 {
		out.Root = with(routes[0])
		return &out, nil
	}
	rt := &Returning{Broadcast: broadcast}
	for _, r := range routes {
		rt.Routes = append(rt.Routes, with(r))
	}
	out.Root = rt
	return &out, nil
}
