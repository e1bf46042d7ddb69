package router

import (
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

// Templates are the plan cache's entries: a statement whose literals are
// parameter markers, planned once for every execution. Two kinds of plans
// qualify, those where the values do nothing but fill the statements'
// text: the template keeps each text cut at the markers, and an execution
// pastes its literals in.
//   - The statement whole on one node: a route fixed whatever the values,
//     or one picked by a single value compared for equality with the
//     sharding column, or by the two bounds of one BETWEEN on it when they
//     fall in one shard. The template keeps the text for every shard.
//   - A SELECT over several shards whose markers all stand in its WHERE
//     clause (see scatterPlan), for values that place it alike.
// Everything else is planned each time.

// paramUse is a parameter marker whose value the planner used to place
// the statement; point says the use was an equality (one shard per value),
// bound whether it was the lower or upper end of a BETWEEN.
type paramUse struct {
	offset int // the marker's place in the text (Order is not set for text statements)
	point  bool
	bound  boundKind
}

type boundKind uint8

const (
	notBound boundKind = iota
	lowerBound
	upperBound
)

// literal is the constant value of e, if it is one; a parameter marker's
// use is remembered (see Template), any other constant's too.
func (b *builder) literal(e ast.ExprNode, point bool, bound boundKind) (shardrules.Value, bool) {
	v, ok := literal(e)
	e = unparen(e)
	if ok {
		if pm, isMarker := e.(*test_driver.ParamMarkerExpr); isMarker {
			b.params = append(b.params, paramUse{pm.Offset, point, bound})
		} else {
			b.constPlaced = true
		}
	} else if u, isUnary := e.(*ast.UnaryOperationExpr); isUnary && u.Op == opcode.Minus {
		if _, isMarker := unparen(u.V).(*test_driver.ParamMarkerExpr); isMarker {
			// -5 places the statement, its template's -? cannot.
			b.markerHidden = true
		}
	}
	return v, ok
}

func unparen(e ast.ExprNode) ast.ExprNode {
	for {
		p, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// Template is a statement planned once for all its values.
type Template struct {
	write bool
	// tables are the logical tables, for the plan.
	tables []string
	// params are the literals (their ranks in the text) whose values pick
	// the shard: none (the route is fixed), one compared for equality, or
	// a BETWEEN's two bounds (betweenBounds).
	params        []int
	betweenBounds bool
	alg           shardrules.Algorithm // picks the shard from those values
	// keyColumn is the sharding column as the planner learnt it (text
	// algorithms): values it would not place are planned the slow way;
	// rows says the values are an INSERT's rows.
	keyColumn keyColumn
	rows      bool
	// texts[i] is the statement for shard i (texts[0] when fixed), cut at
	// its markers; node[i] where it runs. A nil text: that shard cannot
	// serve the statement (it is planned the slow way).
	texts    []text
	node     []string
	label    []string // Route.Shard of each
	readable bool
	// scatter, when set, is the plan over several shards the template
	// serves instead (texts, node and label are unused).
	scatter *scatterPlan
	// IDParams are the literals (ranks) giving an id the proxy generates
	// when asked to (NULL, 0): the caller sets them, and plans an
	// execution whose values ask for an id the slow way.
	IDParams []int
	// spans, for a one-shard BETWEEN template over a layout that names
	// the shards a range spans, are the plans over several shards it
	// serves as well, one per span met (LearnSpan); a plan without root
	// says that span is planned each time.
	spans   atomic.Pointer[[]*scatterPlan]
	spansMu sync.Mutex // serializes LearnSpan
}

// Compile plans stmt, whose parameter markers are bound to the values of
// one execution, as a template; nil when its plan is not one a template
// can serve, with a *SpanError when other values would make it one. plan
// is this execution's plan (with the markers printed as ?).
func Compile(stmt ast.StmtNode, env *Env) (*Template, *Plan, error) {
	// (Before planning, which may move markers: HAVING is merged by the proxy.)
	sel, isSelect := stmt.(*ast.SelectStmt)
	scatterOK := isSelect && markersOnlyInWhere(sel)
	b, plan, err := build(stmt, env)
	if err != nil {
		return nil, nil, err
	}
	if b.unplaced {
		return nil, plan, ErrUnplaced
	}
	if aliasesMarkers(stmt) || b.markerHidden || plan.FoundRows {
		return nil, plan, nil
	}
	r, ok := plan.Root.(*Route)
	if !ok || len(r.SQL) != 1 {
		return compileScatter(b, stmt, plan, scatterOK)
	}
	t := &Template{write: plan.Write, tables: plan.Tables, readable: r.Readable}
	swap := swapMarkers(stmt)
	defer swap.back(stmt)
	switch {
	case len(b.params) == 0:
		tx, err := swap.render(b, b.unitFor(r.Node, -1))
		if err != nil || tx.joined() != r.SQL[0] {
			return nil, plan, nil
		}
		t.texts, t.node, t.label = []text{tx}, []string{r.Node}, []string{r.Shard}
		return t, plan, nil
	case b.constPlaced:
		// A constant placed it too (user_id = ? OR user_id IS NULL): the
		// marker alone does not decide.
		return nil, plan, nil
	case len(b.params) == 1 && b.params[0].point:
	case b.isBetween():
		t.betweenBounds = true
	default:
		return nil, plan, nil
	}
	// The values decide: render the statement for every shard of the group.
	root := b.groupRoot()
	if root == nil {
		return nil, plan, nil
	}
	// A single-node or default-node table in the statement fixes the node:
	// shards elsewhere are refused by the planner (cross-node joins).
	fixedNode := ""
	for _, tb := range b.tables {
		if tb.rule != nil && (tb.rule.Kind == shardrules.Single || tb.rule.Kind == shardrules.Default) {
			fixedNode = tb.rule.Node
		}
	}
	vals := make([]any, len(b.params))
	for i, p := range b.params {
		t.params = append(t.params, swap.rank(p.offset))
		vals[i] = swap.value(p.offset)
	}
	t.alg, t.keyColumn = root.Algorithm, b.keyColumnFor(root)
	_, t.rows = stmt.(*ast.InsertStmt)
	t.texts, t.node, t.label = make([]text, root.Shards), make([]string, root.Shards), make([]string, root.Shards)
	for s := 0; s < root.Shards; s++ {
		node := root.Shard(s).Node
		if fixedNode != "" && node != fixedNode {
			continue
		}
		tx, err := swap.render(b, b.unitFor(node, s))
		if err != nil {
			continue
		}
		t.texts[s], t.node[s], t.label[s] = tx, node, strconv.Itoa(s)
	}
	// The shard the planner chose for this execution must be the one the
	// template picks: else the markers are not what placed it.
	if s, ok := t.shard(vals); !ok || t.node[s] != r.Node || t.texts[s].joined() != r.SQL[0] {
		return nil, plan, nil
	}
	return t, plan, nil
}

// groupRoot is the root rule of the one shard group the statement's
// sharded tables belong to; nil for none or several.
func (b *builder) groupRoot() *shardrules.TableRule {
	var root *shardrules.TableRule
	for _, tb := range b.tables {
		if tb.sharded() {
			if root != nil && tb.rule.Root != root {
				return nil
			}
			root = tb.rule.Root
		}
	}
	return root
}

// isBetween says the statement was placed by one BETWEEN's two markers.
func (b *builder) isBetween() bool {
	return len(b.params) == 2 && b.params[0].bound == lowerBound && b.params[1].bound == upperBound
}

// scatterPlan is a template's plan over several shards: the tree built
// when it was compiled, whose routes every execution replaces with its
// own. It serves the executions whose values place the statement as the
// compiling one's did (the same answer from the algorithm), which is what
// made the tree: the markers stand only in the WHERE clause, which only
// the shards read, so the merge above them does not depend on them.
type scatterPlan struct {
	root   Primitive
	routes []*Route // root's routes, in AppendRoutes order
	texts  [][]text // texts[i][j]: routes[i].SQL[j] cut at its markers
	// shards, exact: what the placing values gave (Algorithm.Range's
	// answer; nothing when no marker placed it).
	shards []int
	exact  bool
	// unions[i], when it has parts, is routes[i]'s statements as one
	// UNION ALL (Route.Union); columns[i] what its executions learn.
	unions  []text
	columns []*UnionColumns
	// sameTime is the plan's SameTime.
	sameTime bool
}

// compileScatter makes the template of a SELECT planned over several
// shards (plan) when whereOnly (its markers all stand in its WHERE
// clause), or says why not: a SpanError asks for one-shard templates when
// the BETWEEN placing it names the shards it spans.
func compileScatter(b *builder, stmt ast.StmtNode, plan *Plan, whereOnly bool) (*Template, *Plan, error) {
	between := b.isBetween() && !b.constPlaced
	if len(b.params) > 0 && !between {
		return nil, plan, nil
	}
	t := &Template{tables: plan.Tables, scatter: &scatterPlan{sameTime: plan.SameTime}}
	sp := t.scatter
	if between {
		root := b.groupRoot()
		if root == nil {
			return nil, plan, nil
		}
		t.alg, t.betweenBounds = root.Algorithm, true
		m := markersOf(stmt)
		t.params = []int{m.rank(b.params[0].offset), m.rank(b.params[1].offset)}
		var ok bool
		if sp.shards, sp.exact, ok = t.span(m.value(b.params[0].offset), m.value(b.params[1].offset)); !ok {
			return nil, plan, nil
		}
	}
	built := whereOnly && !plan.Write && b.scatterUnits != nil && scatterable(plan.Root) && sp.build(b, stmt, plan)
	if sp.exact {
		// The algorithm names the shards (a range layout): the next
		// executions likely fall in one, which a one-shard template
		// serves (the session compiles it with both bounds the lower);
		// this plan serves the executions spanning these shards.
		if !built {
			sp.root = nil
		}
		return nil, plan, &SpanError{Lower: t.params[0], Upper: t.params[1], plan: sp}
	}
	if !built {
		return nil, plan, nil
	}
	return t, plan, nil
}

// build cuts the statements of plan's routes at their markers; false
// when a route's statement is not one the units render.
func (sp *scatterPlan) build(b *builder, stmt ast.StmtNode, plan *Plan) bool {
	swap := swapMarkers(stmt)
	defer swap.back(stmt)
	byText := map[string]text{}
	for _, u := range b.scatterUnits {
		tx, err := swap.render(b, u)
		if err != nil {
			return false
		}
		byText[tx.joined()] = tx
	}
	sp.root, sp.routes = plan.Root, AppendRoutes(nil, plan.Root)
	for _, r := range sp.routes {
		var texts []text
		for _, sql := range r.SQL {
			tx, found := byText[sql]
			if !found {
				return false
			}
			texts = append(texts, tx)
		}
		sp.texts = append(sp.texts, texts)
	}
	sp.fuse(stmt)
	return true
}

// fuse gives each route of several shards its statements as one UNION
// ALL, when the statement may be a union's part and the union can be
// sorted as the merge reads it.
func (sp *scatterPlan) fuse(stmt ast.StmtNode) {
	sel, ok := stmt.(*ast.SelectStmt)
	if !ok || !unionSafe(sel) {
		return
	}
	order, ok := unionOrder(sp.root, sel)
	if !ok {
		return
	}
	sp.unions = make([]text, len(sp.routes))
	sp.columns = make([]*UnionColumns, len(sp.routes))
	for i, texts := range sp.texts {
		if len(texts) > 1 {
			sp.unions[i], sp.columns[i] = unionText(texts, order), &UnionColumns{}
		}
	}
}

// scatterable says a template may serve the plan: a Scatter under
// primitives of one input.
func scatterable(p Primitive) bool {
	switch x := p.(type) {
	case *Scatter:
		return true
	case singleInput:
		return scatterable(x.input())
	}
	return false
}

// markersOnlyInWhere says every marker of sel stands in its WHERE clause
// and outside subqueries.
func markersOnlyInWhere(sel *ast.SelectStmt) bool {
	all := countMarkers(sel, true)
	return all == 0 || sel.Where != nil && countMarkers(sel.Where, false) == all
}

// countMarkers counts the markers under n, in subqueries or not.
func countMarkers(n ast.Node, inSubqueries bool) int {
	count := 0
	n.Accept(visitFunc(func(n ast.Node) bool {
		switch n.(type) {
		case *test_driver.ParamMarkerExpr:
			count++
		case *ast.SubqueryExpr:
			return inSubqueries
		}
		return true
	}))
	return count
}

// instance is the scatter plan over new routes holding lits.
func (sp *scatterPlan) instance(lits []string) (Primitive, bool) {
	fresh := make([]Route, len(sp.routes))
	for i, r := range sp.routes {
		fresh[i] = *r
		fresh[i].SQL = make([]string, len(r.SQL))
		for j, tx := range sp.texts[i] {
			sql, ok := tx.fill(nil, lits)
			if !ok {
				return nil, false
			}
			fresh[i].SQL[j] = string(sql)
		}
		if sp.unions != nil && sp.unions[i].parts != nil {
			sql, ok := sp.unions[i].fill(nil, lits)
			if !ok {
				return nil, false
			}
			fresh[i].Union, fresh[i].Columns = string(sql), sp.columns[i]
		}
	}
	next := 0
	root := withRoutes(sp.root, fresh, &next)
	return root, root != nil && next == len(fresh)
}

// withRoutes copies the tree p over the routes fresh, taken in
// AppendRoutes order from *next; nil when p is not scatterable.
func withRoutes(p Primitive, fresh []Route, next *int) Primitive {
	switch x := p.(type) {
	case *Scatter:
		if *next+len(x.Routes) > len(fresh) {
			return nil
		}
		routes := make([]*Route, len(x.Routes))
		for i := range routes {
			routes[i] = &fresh[*next]
			*next++
		}
		return &Scatter{Routes: routes}
	case singleInput:
		if in := withRoutes(x.input(), fresh, next); in != nil {
			return x.withInput(in)
		}
	}
	return nil
}

// ErrUnplaced says a value of this execution has no shard (the plan reads
// every one): other values may make a template, so compile again with them.
var ErrUnplaced = errors.New("shardgate: a value placing this statement has no shard")

// SpanError says a statement placed by one BETWEEN on the sharding column
// got no template only because these values span several shards: compile
// it again with the upper bound's value set to the lower's (Lower and
// Upper are the markers' ranks in the text), and the template will serve
// the executions whose bounds fall in one shard.
type SpanError struct {
	Lower, Upper int
	plan         *scatterPlan // the plan over the shards spanned (root nil: none)
}

func (e *SpanError) Error() string {
	return "shardgate: the BETWEEN placing this statement spans shards for these values"
}

// shard is the one shard the values (of the params, in order) pick; ok is
// false when they do not pick exactly one.
func (t *Template) shard(vals []any) (int, bool) {
	if len(t.params) == 0 {
		return 0, true
	}
	if len(vals) != len(t.params) {
		return 0, false
	}
	if t.betweenBounds {
		return t.between(vals[0], vals[1])
	}
	v, ok := valueOf(vals[0])
	if !ok || !t.keyColumn.places(v, t.rows) {
		return 0, false
	}
	s, err := t.alg.Shard(v)
	return s, err == nil && s >= 0 && s < len(t.texts)
}

// between is the one shard the range [lo, hi] lies in.
func (t *Template) between(lower, upper any) (int, bool) {
	shards, exact, ok := t.span(lower, upper)
	if !ok || !exact || len(shards) != 1 || shards[0] < 0 || shards[0] >= len(t.texts) {
		return 0, false
	}
	return shards[0], true
}

// span is the algorithm's answer for the range [lo, hi]: the shards, and
// whether it named them exactly; ok is false for values it cannot take.
// (Apart from shard: the bounds the algorithm gets escape to the heap.)
func (t *Template) span(lower, upper any) (shards []int, exact, ok bool) {
	lo, ok1 := valueOf(lower)
	hi, ok2 := valueOf(upper)
	if !ok1 || !ok2 || lo.IsNull() || hi.IsNull() {
		return nil, false, false
	}
	shards, exact = t.alg.Range(&lo, &hi, true, true)
	return shards, exact, true
}

// PlanInto fills p (and r, its route) for an execution: lits are the
// literals' texts, in order; vals are the values of the literals Params
// names, in that order. ok is false when the template cannot serve these
// values (then plan the statement the slow way).
func (t *Template) PlanInto(p *Plan, r *Route, buf []byte, lits []string, vals []any) ([]byte, bool) {
	if t.scatter != nil {
		return buf, t.scatterInto(p, lits, vals)
	}
	s, ok := t.shard(vals)
	if !ok {
		return buf, false
	}
	if buf, ok = t.texts[s].fill(buf[:0], lits); !ok {
		return buf, false
	}
	if cap(r.SQL) == 0 {
		r.SQL = make([]string, 1)
	}
	*r = Route{Node: t.node[s], SQL: r.SQL[:1], Shard: t.label[s], Readable: t.readable}
	r.SQL[0] = string(buf)
	*p = Plan{Root: r, Write: t.write, Tables: t.tables}
	return buf, true
}

// scatterInto fills p with the scatter plan, if these values place the
// statement where the compiling ones did.
func (t *Template) scatterInto(p *Plan, lits []string, vals []any) bool {
	sp := t.scatter
	if t.betweenBounds {
		if len(vals) != 2 {
			return false
		}
		shards, exact, ok := t.span(vals[0], vals[1])
		if !ok || exact != sp.exact || !slices.Equal(shards, sp.shards) {
			return false
		}
	}
	return t.fill(sp, p, lits)
}

// fill makes p sp's plan over new routes holding lits.
func (t *Template) fill(sp *scatterPlan, p *Plan, lits []string) bool {
	root, ok := sp.instance(lits)
	if !ok {
		return false
	}
	*p = Plan{Root: root, Tables: t.tables, SameTime: sp.sameTime}
	return true
}

// maxSpans bounds the spans a template learns (a range layout of n shards
// has n(n-1)/2 spans of several).
const maxSpans = 16

// SpanInto fills p for an execution whose BETWEEN spans several shards of
// a one-shard template (PlanInto refused it) with the plan learnt for
// that span; false when there is none (plan it the slow way, and see
// NewSpan).
func (t *Template) SpanInto(p *Plan, lits []string, vals []any) bool {
	sp, _ := t.spanPlan(vals)
	return sp != nil && sp.root != nil && t.fill(sp, p, lits)
}

// NewSpan says these values span several shards, named exactly, of a
// one-shard BETWEEN template that has not met that span and may learn it:
// compile the statement with them, and give the SpanError to LearnSpan.
func (t *Template) NewSpan(vals []any) bool {
	sp, learnable := t.spanPlan(vals)
	return sp == nil && learnable
}

// spanPlan is the plan learnt for the span of vals; learnable says the
// values span several shards, named exactly, and the template has room.
func (t *Template) spanPlan(vals []any) (_ *scatterPlan, learnable bool) {
	if !t.Spans() || len(vals) != 2 {
		return nil, false
	}
	shards, exact, ok := t.span(vals[0], vals[1])
	if !ok || !exact || len(shards) < 2 {
		return nil, false
	}
	var known []*scatterPlan
	if l := t.spans.Load(); l != nil {
		known = *l
	}
	for _, sp := range known {
		if slices.Equal(sp.shards, shards) {
			return sp, true
		}
	}
	return nil, len(known) < maxSpans
}

// LearnSpan keeps the plan of a span that an execution's values (vals)
// gave when compiled (e, nil when they gave no SpanError): from then on
// SpanInto serves that span, or says to plan it each time.
func (t *Template) LearnSpan(vals []any, e *SpanError) {
	if !t.NewSpan(vals) {
		return
	}
	shards, _, _ := t.span(vals[0], vals[1])
	sp := &scatterPlan{shards: shards, exact: true}
	if e != nil && e.plan != nil && e.Lower == t.params[0] && e.Upper == t.params[1] && slices.Equal(e.plan.shards, shards) {
		sp = e.plan
	}
	t.spansMu.Lock()
	defer t.spansMu.Unlock()
	var known []*scatterPlan
	if l := t.spans.Load(); l != nil {
		known = *l
	}
	for _, k := range known {
		if slices.Equal(k.shards, shards) {
			return // learnt meanwhile
		}
	}
	if len(known) < maxSpans {
		next := append(known[:len(known):len(known)], sp)
		t.spans.Store(&next)
	}
}

// Single says the template's plan is one route (PlanInto fills r).
func (t *Template) Single() bool { return t.scatter == nil }

// Spans says a one-shard template may also serve ranges over several
// shards (SpanInto).
func (t *Template) Spans() bool { return t.scatter == nil && t.betweenBounds }

// Params are the literals (by their places among the statement's
// literals) whose values pick the shard; none when the route is fixed.
func (t *Template) Params() []int { return t.params }

// aliasesMarkers reports a select field named after text holding a
// marker: the client would see "?" in the column name.
func aliasesMarkers(stmt ast.StmtNode) bool {
	found := false
	stmt.Accept(visitFunc(func(n ast.Node) bool {
		if f, ok := n.(*ast.SelectField); ok && strings.Contains(f.AsName.O, "?") {
			found = true
		}
		return !found
	}))
	return found
}

// TemplateCache maps a statement's template key to its Template (nil:
// planned each time). The zero value is ready; it is safe for concurrent
// use and bounded (it starts over when full).
type TemplateCache struct {
	mu sync.RWMutex
	m  map[string]*Template
}

// maxTemplates bounds a cache; applications have far fewer shapes.
const maxTemplates = 10000

// Get returns the entry for key, and whether there is one.
func (c *TemplateCache) Get(key []byte) (*Template, bool) {
	c.mu.RLock()
	t, ok := c.m[string(key)]
	c.mu.RUnlock()
	return t, ok
}

// Put stores an entry (t nil: plan the statement each time).
func (c *TemplateCache) Put(key []byte, t *Template) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxTemplates {
		c.m = map[string]*Template{}
	}
	c.m[string(key)] = t
	c.mu.Unlock()
}

// Len returns the number of entries.
func (c *TemplateCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// text is a statement cut where the literals go: parts[0], literal
// order[0], parts[1], ... (the printed order may differ from the text's:
// LIMIT 10 OFFSET 5 prints as LIMIT 5,10).
type text struct {
	parts []string
	order []int
}

// fill appends the statement with lits in the markers' places; ok is
// false when lits are too few.
func (tx text) fill(buf []byte, lits []string) ([]byte, bool) {
	if tx.parts == nil {
		return buf, false
	}
	buf = append(buf, tx.parts[0]...)
	for i, k := range tx.order {
		if k >= len(lits) {
			return buf, false
		}
		buf = append(append(buf, lits[k]...), tx.parts[i+1]...)
	}
	return buf, true
}

// joined is the statement with ? for its literals.
func (tx text) joined() string { return strings.Join(tx.parts, "?") }

// markerSwap puts unmistakable numbers in the markers' places while the
// template's texts are printed, to see where each marker lands.
type markerSwap struct {
	markers []*test_driver.ParamMarkerExpr // in text order
}

// sentinel is the number standing for marker i while printing.
const sentinel = 7351946028461937000

// markersOf lists the statement's markers in text order.
func markersOf(stmt ast.StmtNode) *markerSwap {
	m := &markerSwap{}
	stmt.Accept(visitFunc(func(n ast.Node) bool {
		if pm, ok := n.(*test_driver.ParamMarkerExpr); ok {
			m.markers = append(m.markers, pm)
		}
		return true
	}))
	sort.Slice(m.markers, func(i, j int) bool { return m.markers[i].Offset < m.markers[j].Offset })
	return m
}

func swapMarkers(stmt ast.StmtNode) *markerSwap {
	m := markersOf(stmt)
	stmt.Accept(&replacer{fn: func(n ast.Node) ast.Node {
		if pm, ok := n.(*test_driver.ParamMarkerExpr); ok {
			return ast.NewValueExpr(int64(sentinel+m.rankOf(pm)), "", "")
		}
		return n
	}})
	return m
}

func (m *markerSwap) rankOf(pm *test_driver.ParamMarkerExpr) int {
	for i, x := range m.markers {
		if x == pm {
			return i
		}
	}
	return -1
}

// rank is the text-order place of the marker at offset at.
func (m *markerSwap) rank(at int) int {
	for i, x := range m.markers {
		if x.Offset == at {
			return i
		}
	}
	return -1
}

// value is the value bound to the marker at offset at.
func (m *markerSwap) value(at int) any {
	if i := m.rank(at); i >= 0 {
		return m.markers[i].Datum.GetValue()
	}
	return nil
}

// render prints the statement for a unit and cuts it at the sentinels.
func (m *markerSwap) render(b *builder, u unit) (text, error) {
	sql, err := b.render(u)
	if err != nil {
		return text{}, err
	}
	var tx text
	l := parser.NewLexer(sql)
	last := 0
	for tok := l.Next(); tok.Kind != parser.TokEOF; tok = l.Next() {
		if tok.Kind != parser.TokNumber {
			continue
		}
		n, err := strconv.ParseInt(sql[tok.Start:tok.End], 10, 64)
		if err != nil || n < sentinel || n >= sentinel+int64(len(m.markers)) {
			continue
		}
		tx.parts = append(tx.parts, sql[last:tok.Start])
		tx.order = append(tx.order, int(n-sentinel))
		last = tok.End
	}
	tx.parts = append(tx.parts, sql[last:])
	return tx, nil
}

// back puts the markers back.
func (m *markerSwap) back(stmt ast.StmtNode) {
	stmt.Accept(&replacer{fn: func(n ast.Node) ast.Node {
		if v, ok := n.(*test_driver.ValueExpr); ok {
			if x, isInt := v.Datum.GetValue().(int64); isInt && x >= sentinel && x < sentinel+int64(len(m.markers)) {
				return m.markers[x-sentinel]
			}
		}
		return n
	}})
}

// replacer replaces nodes on the way out.
type replacer struct{ fn func(ast.Node) ast.Node }

func (r *replacer) Enter(n ast.Node) (ast.Node, bool) { return n, false }
func (r *replacer) Leave(n ast.Node) (ast.Node, bool) { return r.fn(n), true }
