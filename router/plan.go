// Package router turns a parsed statement and the sharding rules into a
// plan: a small tree of primitives that says what runs on which data node
// and how the results combine. It is pure: no sockets, no goroutines; the
// proxy executes plans.
package router

import (
	"fmt"
	"strings"
	"time"

	"github.com/shardgate/shardgate/router/merge"
)

// Primitive is one node of a plan tree.
type Primitive interface {
	// explain appends the primitive's description, indented by depth.
	explain(b *strings.Builder, depth int)
}

// Plan is what the router decided for one statement.
type Plan struct {
	Root Primitive
	// Write is set for statements that change data or schema.
	Write bool
	// Tables lists the logical tables the statement touches (for stats).
	Tables []string
	// Insert says how an INSERT of several rows counts its duplicates:
	// split over shards, their answers add up to the "Records: 3
	// Duplicates: 1  Warnings: 0" MySQL gives such a statement.
	Insert InsertKind
	// FoundRows: a SELECT SQL_CALC_FOUND_ROWS over several shards, each
	// of whose rows lives whole on one shard. Every shard's statement is
	// followed by SELECT FOUND_ROWS(); their sum is the statement's.
	FoundRows bool
	// SameTime: a read over several shards that reads the clock (NOW(),
	// CURRENT_TIMESTAMP, UNIX_TIMESTAMP() ...): its statements run at one
	// @@timestamp, as one server's statement sees one time. (A write of
	// several statements always does: columns default to the time.)
	SameTime bool
	// At, when set, is the time every statement of the plan runs at: the
	// one the subqueries the proxy ran first for it saw (as one server's
	// statement and its subqueries see one time).
	At time.Time
}

// InsertKind is the kind of an INSERT of several rows (NotInsert for any
// other statement, or an INSERT of one row, which has no such line).
type InsertKind uint8

const (
	NotInsert     InsertKind = iota
	InsertPlain              // a duplicate key fails it
	InsertIgnore             // a row that fails is skipped: a duplicate
	InsertReplace            // each row it deletes is a duplicate
	InsertUpsert             // ON DUPLICATE KEY UPDATE: each row it changes
)

// Col names a result column: an index among the columns the shards
// return, counted from the end when FromEnd (helper columns appended after
// a `*` whose width is only known when the result arrives).
type Col struct {
	Index   int
	FromEnd bool
}

// Resolve returns the absolute index for a result of n columns.
func (c Col) Resolve(n int) int {
	if c.FromEnd {
		return n - c.Index
	}
	return c.Index
}

// fromEndShift moves the key's helper columns n further from the end, for
// n helpers added after it was made.
func (k *SortKey) fromEndShift(n int) {
	if k.Col.FromEnd {
		k.Col.Index += n
	}
	if k.HasWeight && k.Weight.FromEnd {
		k.Weight.Index += n
	}
}

// sameColumn reports whether k compares what o compares (either way up):
// a later key like that never decides anything.
func (k SortKey) sameColumn(o SortKey) bool {
	return k.Col == o.Col && k.HasWeight == o.HasWeight && (!k.HasWeight || k.Weight == o.Weight)
}

func (c Col) String() string {
	if c.FromEnd {
		return fmt.Sprintf("end-%d", c.Index)
	}
	return fmt.Sprint(c.Index)
}

// SortKey orders merged rows by one column. Weight, when set, names a
// helper column holding WEIGHT_STRING(expr): strings compare by it, so the
// merge follows the column's collation exactly. Position says the weight
// is an ENUM or SET column's position instead (see positionWeight).
// Collation, with no weight, is the collation the merge compares the
// column's strings by itself.
type SortKey struct {
	Col       Col
	Desc      bool
	Weight    Col
	HasWeight bool
	Position  bool
	Collation *merge.Collation
}

// Route sends statements to one data node: one per shard it touches there.
// Inside a transaction they go out in one write on the pinned connection and
// run in order; otherwise each shard's statement gets its own connection.
type Route struct {
	Node  string
	SQL   []string
	Shard string // which shards, for EXPLAIN: "orders_1,orders_3"
	// Readable says a replica may serve it (no write, no lock).
	Readable bool
	// Union, when set, is SQL as one UNION ALL, sorted as the merge reads
	// the node: one statement for the node instead of one per shard, where
	// they would run one after another (a pinned connection). A union's
	// column definitions lose their tables, schema and key flags, which a
	// client would see, so it runs only once Columns holds the definitions
	// the shards' own statements gave (see UnionColumns).
	Union   string
	Columns *UnionColumns
	// RowNumbers, for an INSERT whose rows were split over shards: the
	// client's number of each row of each statement in SQL, for the "at
	// row N" of its messages.
	RowNumbers [][]int
}

// Scatter runs its routes on their nodes at once; read results are
// concatenated, write results summed.
type Scatter struct {
	Routes []*Route
	// Union: the routes answer a UNION's different parts, whose columns
	// the executor unifies as the server would.
	Union bool
}

// LimitedWrite is an UPDATE or DELETE with LIMIT and no ORDER BY over
// several shards. MySQL changes any Limit rows that match: the routes'
// statements (without LIMIT) run one after another, each with LIMIT what
// the ones before left (rows matched for an UPDATE, deleted for a DELETE),
// until none is left.
type LimitedWrite struct {
	Routes []*Route
	Limit  uint64
}

func (w *LimitedWrite) explain(b *strings.Builder, d int) {
	line(b, d, "LimitedWrite limit %d", w.Limit)
	for _, r := range w.Routes {
		r.explain(b, d+1)
	}
}

// Returning is a write whose statements each return the rows they wrote
// (MariaDB's INSERT, REPLACE or DELETE ... RETURNING), run one after
// another: the client gets one result of their rows, an INSERT's in the
// order of its VALUES (the routes' RowNumbers), a global table's copies'
// once (Broadcast: the first copy's).
type Returning struct {
	Routes    []*Route
	Broadcast bool
}

func (x *Returning) explain(b *strings.Builder, d int) {
	what := "rows in the client's order"
	if x.Broadcast {
		what = "the first copy's rows"
	}
	line(b, d, "Returning statement after statement, %s", what)
	for _, r := range x.Routes {
		r.explain(b, d+1)
	}
}

// Broadcast writes to every copy of a global table; the copies answer
// alike, so the client sees one copy's affected-row count.
type Broadcast struct {
	Routes []*Route
}

// MergeSort merges inputs that each arrive sorted by Keys.
type MergeSort struct {
	Keys  []SortKey
	Input *Scatter
}

// Limit skips Offset rows and returns at most Count (-1: no limit).
type Limit struct {
	Offset, Count int64
	Input         Primitive
}

// AggKind says how partial aggregates from the shards combine.
type AggKind int

const (
	AggCount AggKind = iota
	AggSum
	AggMin
	AggMax
	AggAvg
	AggCountDistinct
	AggSumDistinct
	AggAvgDistinct
	AggBitOr
	AggBitAnd
	AggBitXor
	AggGroupConcat
)

var aggNames = [...]string{"count", "sum", "min", "max", "avg", "count_distinct", "sum_distinct", "avg_distinct", "bit_or", "bit_and", "bit_xor", "group_concat"}

func (k AggKind) String() string { return aggNames[k] }

// AggFunc merges one aggregate column.
type AggFunc struct {
	Kind AggKind
	Col  Col
	// Weight is the WEIGHT_STRING helper of a MIN/MAX column, or the
	// value column of a COUNT(DISTINCT).
	Weight    Col
	HasWeight bool
	// Value is the column counted by AggCountDistinct; Position says its
	// weight is an ENUM/SET position (see positionWeight).
	Value    Col
	Position bool
	// Sum and Count are AVG's helper columns.
	Sum, Count Col
	// Sep is GROUP_CONCAT's separator; Len the helper column with the
	// LENGTH() of a shard's GROUP_CONCAT, in the bytes its limit counts.
	Sep string
	Len Col
}

// Aggregate merges rows with equal Group keys (all rows when Group is
// empty: one row comes out even from empty inputs).
type Aggregate struct {
	Group []SortKey
	Funcs []AggFunc
	Input Primitive
	// Stored: its rows are sorted after, otherwise than by the group
	// keys, which one server does from a temporary table, an AVG in it
	// rounded to its scale (an expression over it, or a variable, sees
	// that).
	Stored bool
}

// Distinct drops rows equal to the previous one on every key.
type Distinct struct {
	Keys  []SortKey
	Input Primitive
}

// SetOp is INTERSECT or EXCEPT of two parts merged on every column
// (Keys), then on the Part helper (1 for the right part, sorted first): of
// each run of equal rows it lets through the left part's rows the
// operation keeps (merge.SetOp).
type SetOp struct {
	Keys   []SortKey
	Part   Col
	Except bool // EXCEPT, else INTERSECT
	All    bool // INTERSECT ALL, EXCEPT ALL: copies as counted
	Input  Primitive
}

// Filter keeps the rows for which Pred holds (HAVING after a merge).
type Filter struct {
	Pred  Expr
	Text  string
	Input Primitive
}

// Compute replaces visible columns with expressions over merged values
// (MAX(a) - MIN(a)); the shards' own value of such a column only gave its
// type.
type Compute struct {
	Cols  []int
	Exprs []Expr
	Texts []string
	Input Primitive
}

// MemorySort sorts merged rows in memory: the top Limit rows, or at most
// a configured number of rows.
type MemorySort struct {
	Keys  []SortKey
	Limit int64 // -1: all rows
	Input Primitive
}

// Project keeps the first Keep visible columns, dropping helper columns
// the rewrite appended (HelperCount of them at the end).
type Project struct {
	HelperCount int
	// LastPosition is the largest ORDER BY position after a *, known to
	// be in the list only when the rows come: past it, the shards sorted
	// by a helper column, so the statement fails as the server's would.
	LastPosition int
	Input        Primitive
}

// Zip joins single-row results column by column: column i comes from
// input Source[i]. Aggregates over several DISTINCT arguments take one
// pass over the shards each.
type Zip struct {
	Inputs []Primitive
	Source []int
}

func (z *Zip) explain(b *strings.Builder, d int) {
	line(b, d, "Zip columns from %v", z.Source)
	for _, in := range z.Inputs {
		in.explain(b, d+1)
	}
}

// CountRows reads its input to the end and returns one row: how many rows
// it read, in each of its columns. It answers SELECT COUNT(*) FROM (a
// derived table across shards) t, whose rows exist only once merged.
// Names are the select list's column names.
type CountRows struct {
	Names []string
	Input Primitive
}

func (c *CountRows) explain(b *strings.Builder, d int) {
	line(b, d, "CountRows %s", strings.Join(c.Names, ", "))
	c.Input.explain(b, d+1)
}

// Described returns its input's rows under column definitions found
// elsewhere (Defs, raw packets): a statement over a derived table the
// proxy wrote in as literals gets the literals' types, the client must
// see the columns' (see Materialize).
type Described struct {
	Defs  [][]byte
	Input Primitive
}

func (d *Described) explain(b *strings.Builder, depth int) {
	line(b, depth, "Described %d columns", len(d.Defs))
	d.Input.explain(b, depth+1)
}

// Concat returns its inputs' rows one after the other (UNION ALL).
type Concat struct {
	Inputs []Primitive
}

// ChildInsert places ER-child rows whose parent key is not the parent's
// sharding column: it first looks up which shard holds each parent row.
type ChildInsert struct {
	// Lookup asks every shard of the parent which of the keys it holds.
	Lookup *Scatter
	// Place builds the inserts once the owners are known: it gets, for
	// each key (as text), the shard index holding its parent row.
	Place func(owner map[string]int) (Primitive, error)
}

// Explain renders a plan as an indented tree.
func (p *Plan) Explain() string {
	var b strings.Builder
	p.Root.explain(&b, 0)
	return b.String()
}

func line(b *strings.Builder, depth int, format string, args ...any) {
	b.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(b, format, args...)
	b.WriteByte('\n')
}

func (r *Route) explain(b *strings.Builder, d int) {
	if r.Shard != "" {
		line(b, d, "Route %s shards %s", r.Node, r.Shard)
	} else {
		line(b, d, "Route %s", r.Node)
	}
	for _, s := range r.SQL {
		line(b, d+1, "%s", s)
	}
}

func (s *Scatter) explain(b *strings.Builder, d int) {
	line(b, d, "Scatter")
	for _, r := range s.Routes {
		r.explain(b, d+1)
	}
}

func (s *Broadcast) explain(b *strings.Builder, d int) {
	line(b, d, "Broadcast")
	for _, r := range s.Routes {
		r.explain(b, d+1)
	}
}

func keysString(keys []SortKey) string {
	var parts []string
	for _, k := range keys {
		s := "col " + k.Col.String()
		if k.HasWeight {
			s += " weight " + k.Weight.String()
		}
		if k.Collation != nil {
			s += " " + k.Collation.Name
		}
		if k.Desc {
			s += " desc"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func (m *MergeSort) explain(b *strings.Builder, d int) {
	line(b, d, "MergeSort %s", keysString(m.Keys))
	m.Input.explain(b, d+1)
}

func (l *Limit) explain(b *strings.Builder, d int) {
	line(b, d, "Limit offset %d count %d", l.Offset, l.Count)
	l.Input.explain(b, d+1)
}

func (a *Aggregate) explain(b *strings.Builder, d int) {
	var fs []string
	for _, f := range a.Funcs {
		fs = append(fs, fmt.Sprintf("%s(col %s)", f.Kind, f.Col))
	}
	stored := ""
	if a.Stored {
		stored = " stored"
	}
	line(b, d, "Aggregate group [%s] funcs [%s]%s", keysString(a.Group), strings.Join(fs, ", "), stored)
	a.Input.explain(b, d+1)
}

func (x *Distinct) explain(b *strings.Builder, d int) {
	line(b, d, "Distinct %s", keysString(x.Keys))
	x.Input.explain(b, d+1)
}

func (x *SetOp) explain(b *strings.Builder, d int) {
	op := "INTERSECT"
	if x.Except {
		op = "EXCEPT"
	}
	if x.All {
		op += " ALL"
	}
	line(b, d, "SetOp %s %s part col %s", op, keysString(x.Keys), x.Part)
	x.Input.explain(b, d+1)
}

func (f *Filter) explain(b *strings.Builder, d int) {
	line(b, d, "Filter %s", f.Text)
	f.Input.explain(b, d+1)
}

func (c *Compute) explain(b *strings.Builder, d int) {
	var parts []string
	for i, col := range c.Cols {
		parts = append(parts, fmt.Sprintf("col %d = %s", col, c.Texts[i]))
	}
	line(b, d, "Compute %s", strings.Join(parts, ", "))
	c.Input.explain(b, d+1)
}

func (m *MemorySort) explain(b *strings.Builder, d int) {
	line(b, d, "MemorySort %s limit %d", keysString(m.Keys), m.Limit)
	m.Input.explain(b, d+1)
}

func (p *Project) explain(b *strings.Builder, d int) {
	if p.LastPosition > 0 {
		line(b, d, "Project drop %d helper columns, ORDER BY %d must be a column", p.HelperCount, p.LastPosition)
	} else {
		line(b, d, "Project drop %d helper columns", p.HelperCount)
	}
	p.Input.explain(b, d+1)
}

func (c *Concat) explain(b *strings.Builder, d int) {
	line(b, d, "Concat")
	for _, in := range c.Inputs {
		in.explain(b, d+1)
	}
}

func (c *ChildInsert) explain(b *strings.Builder, d int) {
	line(b, d, "ChildInsert (parent rows looked up first)")
	c.Lookup.explain(b, d+1)
}

// singleInput is a primitive over one input.
type singleInput interface {
	input() Primitive
	// withInput is a copy over another input (a template's execution
	// gets routes of its own; the primitives are otherwise shared).
	withInput(Primitive) Primitive
}

func (m *MergeSort) input() Primitive  { return m.Input }
func (l *Limit) input() Primitive      { return l.Input }
func (a *Aggregate) input() Primitive  { return a.Input }
func (x *Distinct) input() Primitive   { return x.Input }
func (x *SetOp) input() Primitive      { return x.Input }
func (f *Filter) input() Primitive     { return f.Input }
func (c *Compute) input() Primitive    { return c.Input }
func (m *MemorySort) input() Primitive { return m.Input }
func (p *Project) input() Primitive    { return p.Input }

func (m *MergeSort) withInput(in Primitive) Primitive {
	c := *m
	c.Input = in.(*Scatter)
	return &c
}
func (l *Limit) withInput(in Primitive) Primitive      { c := *l; c.Input = in; return &c }
func (a *Aggregate) withInput(in Primitive) Primitive  { c := *a; c.Input = in; return &c }
func (x *Distinct) withInput(in Primitive) Primitive   { c := *x; c.Input = in; return &c }
func (x *SetOp) withInput(in Primitive) Primitive      { c := *x; c.Input = in; return &c }
func (f *Filter) withInput(in Primitive) Primitive     { c := *f; c.Input = in; return &c }
func (c *Compute) withInput(in Primitive) Primitive    { d := *c; d.Input = in; return &d }
func (m *MemorySort) withInput(in Primitive) Primitive { c := *m; c.Input = in; return &c }
func (p *Project) withInput(in Primitive) Primitive    { c := *p; c.Input = in; return &c }

// WriteStatements counts the statements a write plan sends; a write the
// proxy runs in steps counts 2 (several shards, known only as it runs).
func (p *Plan) WriteStatements() int {
	var routes []*Route
	switch r := p.Root.(type) {
	case *Route:
		routes = []*Route{r}
	case *Scatter:
		routes = r.Routes
	case *Broadcast:
		routes = r.Routes
	case *Returning:
		routes = r.Routes
	case *LoadData:
		routes = r.Routes
	case *ChildInsert, *MoveRows, *InsertSelect, *LimitedWrite:
		return 2
	default:
		return 1
	}
	n := 0
	for _, r := range routes {
		n += len(r.SQL)
	}
	return n
}

// AppendRoutes appends the routes of a read plan's tree (and of a
// Broadcast or LimitedWrite), in plan order.
func AppendRoutes(out []*Route, p Primitive) []*Route {
	switch x := p.(type) {
	case *Route:
		out = append(out, x)
	case *Scatter:
		out = append(out, x.Routes...)
	case *Broadcast:
		out = append(out, x.Routes...)
	case *LimitedWrite:
		out = append(out, x.Routes...)
	case *Returning:
		out = append(out, x.Routes...)
	case singleInput:
		out = AppendRoutes(out, x.input())
	case *CountRows:
		out = AppendRoutes(out, x.Input)
	case *Described:
		out = AppendRoutes(out, x.Input)
	case *Concat:
		for _, in := range x.Inputs {
			out = AppendRoutes(out, in)
		}
	case *Zip:
		for _, in := range x.Inputs {
			out = AppendRoutes(out, in)
		}
	}
	return out
}
