//go:build integration

package integration

// Random query shapes over the shop schema, compared with the oracle: a
// seeded generator writes SELECTs (filters, groups, HAVING, DISTINCT, joins,
// subqueries, derived tables, UNION, ORDER BY ... LIMIT) that a person would
// not think to list in queries.txt. The proxy must answer each as the oracle
// does, or refuse it (1235); any other difference is a failure. Every answer is
// deterministic: a LIMIT comes with an ORDER BY over every output column, and
// the columns whose equal values print differently (case and trailing-space
// variants under utf8mb4_general_ci) or whose sums depend on the order of
// addition (DOUBLE) are kept out of groups, orderings and sums.

import (
	"database/sql"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rcol is a column the generator may use.
type rcol struct {
	name string
	kind string // int, dec, str, date, dt, dbl, enum, text
	// tie: equal under the collation yet printed differently ('Ana'/'ana',
	// 'Blue '/'Blue'), so never a group, an ordering or a MIN/MAX.
	tie  bool
	null bool
	vals []string // literals for comparisons (besides those from ranges)
	lo   int      // int, dec: the range of values
	hi   int
}

// rtable is a table of the shop schema and its alias.
type rtable struct {
	name, alias string
	cols        []rcol
}

var randomTables = []rtable{
	{"orders", "o", []rcol{
		{name: "id", kind: "int", lo: 1, hi: 22001},
		{name: "user_id", kind: "int", lo: 1, hi: 215},
		{name: "region_id", kind: "int", null: true, lo: 1, hi: 20},
		{name: "amount", kind: "dec", lo: 0, hi: 1000},
		{name: "status", kind: "str", vals: []string{"'archived'", "'cancelled'", "'new'", "'paid'", "'returned'", "'shipped'"}},
		{name: "tag", kind: "str", tie: true, null: true, vals: []string{"'green'", "'red'", "'blue'", "'grün'", "'w56'"}},
		{name: "created", kind: "dt", vals: []string{"'2024-03-01'", "'2024-06-15 12:00:00'", "'2024-11-30'", "'2025-01-01'"}},
		{name: "qty", kind: "int", lo: 1, hi: 12},
		{name: "score", kind: "dbl", null: true, lo: 0, hi: 100},
	}},
	{"order_items", "i", []rcol{
		{name: "id", kind: "int", lo: 1, hi: 5100},
		{name: "order_id", kind: "int", lo: 1, hi: 11821},
		{name: "product_id", kind: "int", lo: 1, hi: 100},
		{name: "qty", kind: "int", lo: 1, hi: 10},
		{name: "price", kind: "dec", lo: 0, hi: 500},
	}},
	{"events", "e", []rcol{
		{name: "id", kind: "int", lo: 1, hi: 7000},
		{name: "kind", kind: "str", tie: true, vals: []string{"'view'", "'share'", "'click'", "'buy'"}},
		{name: "value", kind: "int", null: true, lo: -100, hi: 900},
		{name: "amount", kind: "dec", lo: 0, hi: 1000},
		{name: "happened", kind: "dt", vals: []string{"'2024-02-01'", "'2024-07-01 08:00:00'", "'2024-12-01'"}},
	}},
	{"accounts", "a", []rcol{
		{name: "code", kind: "str", vals: []string{"'acc-0003'", "'acc-0004'", "'acc-0100'", "'acc-0250'"}},
		{name: "owner", kind: "str", tie: true, vals: []string{"'ana'", "'bob'"}},
		{name: "level", kind: "int", lo: 1, hi: 95},
		{name: "credit", kind: "dec", null: true, lo: 0, hi: 10000},
		{name: "opened", kind: "date", vals: []string{"'2023-06-01'", "'2024-01-01'", "'2024-09-15'"}},
		{name: "tier", kind: "enum", null: true, vals: []string{"'gold'", "'basic'", "'silver'"}},
	}},
	{"visits", "v", []rcol{
		{name: "id", kind: "int", lo: 1, hi: 400},
		{name: "visit_date", kind: "date", vals: []string{"'2024-03-31'", "'2024-07-01'", "'2025-01-15'", "'2025-10-01'"}},
		{name: "user_id", kind: "int", lo: 2, hi: 200},
		{name: "pages", kind: "int", lo: 1, hi: 30},
		{name: "duration", kind: "dbl", null: true, lo: 0, hi: 600},
		{name: "source", kind: "str", null: true, vals: []string{"'email'", "'social'", "'organic'", "'ads'"}},
	}},
	{"users", "u", []rcol{
		{name: "id", kind: "int", lo: 1, hi: 201},
		{name: "name", kind: "str", tie: true, vals: []string{"'ana'", "'Alice'", "'李雷'"}},
		{name: "region_id", kind: "int", null: true, lo: 1, hi: 20},
		{name: "created", kind: "date", vals: []string{"'2023-06-01'", "'2024-01-01'", "'2024-06-30'"}},
		{name: "balance", kind: "dec", null: true, lo: 0, hi: 10000},
	}},
	{"regions", "r", []rcol{
		{name: "id", kind: "int", lo: 1, hi: 20},
		{name: "name", kind: "str", vals: []string{"'North'", "'Zürich'", "'Skåne'"}},
		{name: "country", kind: "str", tie: true, null: true, vals: []string{"'US'", "'FR'", "'GB'", "'ES'"}},
	}},
	{"products", "p", []rcol{
		{name: "id", kind: "int", lo: 1, hi: 230},
		{name: "category", kind: "str", vals: []string{"'books'", "'garden'", "'tools'", "'food'", "'games'"}},
		{name: "price", kind: "dec", lo: 0, hi: 500},
		{name: "stock", kind: "int", null: true, lo: 0, hi: 100},
		{name: "origin_region", kind: "int", null: true, lo: 1, hi: 20},
	}},
}

// randomJoins are the joins the generator writes: "A JOIN B ON ...", with the
// tables' aliases.
var randomJoins = []struct{ left, right, on string }{
	{"orders", "order_items", "i.order_id = o.id"},
	{"orders", "users", "u.id = o.user_id"},
	{"orders", "regions", "r.id = o.region_id"},
	{"events", "regions", "r.id = e.value"},
	{"visits", "users", "u.id = v.user_id"},
	{"order_items", "products", "p.id = i.product_id"},
	{"orders", "visits", "v.user_id = o.user_id"},
}

func randomTable(name string) rtable {
	for _, t := range randomTables {
		if t.name == name {
			return t
		}
	}
	panic("no table " + name)
}

// qref is a column of a query's FROM, as the query writes it.
type qref struct {
	rcol
	ref string // "o.amount"
}

// queryGen writes random SELECTs.
type queryGen struct {
	r *rand.Rand
}

func (g *queryGen) pick(n int) int        { return g.r.Intn(n) }
func (g *queryGen) chance(p float64) bool { return g.r.Float64() < p }

// from returns a FROM clause and its columns: one table, or a join.
func (g *queryGen) from() (string, []qref) {
	if g.chance(0.3) {
		j := randomJoins[g.pick(len(randomJoins))]
		l, r := randomTable(j.left), randomTable(j.right)
		kind := "JOIN"
		if g.chance(0.3) {
			kind = "LEFT JOIN"
		}
		return fmt.Sprintf("%s %s %s %s %s ON %s", l.name, l.alias, kind, r.name, r.alias, j.on), append(refs(l), refs(r)...)
	}
	t := randomTables[g.pick(len(randomTables))]
	return t.name + " " + t.alias, refs(t)
}

func refs(t rtable) []qref {
	out := make([]qref, len(t.cols))
	for i, c := range t.cols {
		out[i] = qref{c, t.alias + "." + c.name}
	}
	return out
}

// literal returns a value of c's kind.
func (g *queryGen) literal(c rcol) string {
	if len(c.vals) > 0 && (c.kind != "int" && c.kind != "dec" && c.kind != "dbl" || g.chance(0.2)) {
		return c.vals[g.pick(len(c.vals))]
	}
	span := c.hi - c.lo + 1
	if span < 1 {
		span = 1
	}
	v := c.lo + g.pick(span)
	if c.kind == "dec" && g.chance(0.5) {
		return fmt.Sprintf("%d.%02d", v, g.pick(100))
	}
	return strconv.Itoa(v)
}

// pred returns a condition over cols.
func (g *queryGen) pred(cols []qref, depth int) string {
	if depth < 2 && g.chance(0.35) {
		op := " AND "
		if g.chance(0.4) {
			op = " OR "
		}
		p := "(" + g.pred(cols, depth+1) + op + g.pred(cols, depth+1) + ")"
		if g.chance(0.1) {
			p = "NOT " + p
		}
		return p
	}
	c := cols[g.pick(len(cols))]
	switch n := g.pick(10); {
	case c.null && n == 0:
		if g.chance(0.5) {
			return c.ref + " IS NULL"
		}
		return c.ref + " IS NOT NULL"
	case n <= 2 && c.kind != "dbl":
		k := 1 + g.pick(4)
		vs := make([]string, k)
		for i := range vs {
			vs[i] = g.literal(c.rcol)
		}
		not := ""
		if g.chance(0.15) {
			not = "NOT "
		}
		return fmt.Sprintf("%s %sIN (%s)", c.ref, not, strings.Join(vs, ", "))
	case n == 3 && c.kind != "enum":
		a, b := g.literal(c.rcol), g.literal(c.rcol)
		return fmt.Sprintf("%s BETWEEN %s AND %s", c.ref, a, b)
	case n == 4 && c.kind == "str":
		return fmt.Sprintf("%s LIKE '%c%%'", c.ref, "abcgnorsw"[g.pick(9)])
	default:
		ops := []string{"=", "<", ">", "<=", ">=", "<>"}
		if c.kind == "enum" {
			ops = []string{"=", "<>"}
		}
		return fmt.Sprintf("%s %s %s", c.ref, ops[g.pick(len(ops))], g.literal(c.rcol))
	}
}

// plainExpr returns an output expression over one row, and whether it may
// be grouped and ordered on.
func (g *queryGen) plainExpr(cols []qref) (string, bool) {
	c := cols[g.pick(len(cols))]
	safe := !c.tie
	switch n := g.pick(8); {
	case n == 0 && (c.kind == "int" || c.kind == "dec"):
		return fmt.Sprintf("%s * %d + 1", c.ref, 1+g.pick(3)), safe
	case n == 1 && c.null:
		return fmt.Sprintf("IFNULL(%s, %s)", c.ref, g.literal(c.rcol)), safe
	case n == 2 && c.kind == "dt":
		return "DATE(" + c.ref + ")", safe
	case n == 3 && (c.kind == "int" || c.kind == "dec"):
		return fmt.Sprintf("CASE WHEN %s > %s THEN 'hi' ELSE 'lo' END", c.ref, g.literal(c.rcol)), safe
	case n == 4 && c.kind == "str" && !c.tie:
		return "UPPER(" + c.ref + ")", safe
	}
	return c.ref, safe
}

// aggExpr returns an aggregate over cols.
func (g *queryGen) aggExpr(cols []qref) string {
	c := cols[g.pick(len(cols))]
	num := c.kind == "int" || c.kind == "dec"
	switch n := g.pick(10); {
	case n == 0:
		return "COUNT(*)"
	case n == 1:
		return "COUNT(" + c.ref + ")"
	case n == 2 && c.kind != "dbl":
		return "COUNT(DISTINCT " + c.ref + ")"
	case n == 3 && num:
		return "SUM(" + c.ref + ")"
	case n == 4 && num:
		return "AVG(" + c.ref + ")"
	case n == 5 && !c.tie:
		return "MIN(" + c.ref + ")"
	case n == 6 && !c.tie:
		return "MAX(" + c.ref + ")"
	case n == 7 && num:
		return fmt.Sprintf("SUM(%s) - COUNT(*) * %d", c.ref, g.pick(5))
	case n == 8 && num && g.chance(0.5):
		return "SUM(DISTINCT " + c.ref + ")"
	case n == 8 && c.kind == "int":
		return "BIT_OR(" + c.ref + ")"
	}
	return "COUNT(*)"
}

// orderLimit orders by every output column (so the order is total) and
// sometimes limits.
func (g *queryGen) orderLimit(n int) string {
	pos := make([]string, n)
	for i, p := range g.r.Perm(n) {
		pos[i] = strconv.Itoa(p + 1)
		if g.chance(0.3) {
			pos[i] += " DESC"
		}
	}
	s := " ORDER BY " + strings.Join(pos, ", ")
	if g.chance(0.7) {
		s += fmt.Sprintf(" LIMIT %d", 1+g.pick(12))
		if g.chance(0.3) {
			s += fmt.Sprintf(" OFFSET %d", g.pick(20))
		}
	}
	return s
}

// selectOne returns a SELECT, the number of its columns and whether its rows
// come ordered; safe: every output column may be ordered on.
func (g *queryGen) selectOne() (string, int, bool) {
	from, cols := g.from()
	where := ""
	if g.chance(0.75) {
		where = " WHERE " + g.pred(cols, 0)
		if g.chance(0.15) {
			where += " AND " + g.subquery(cols)
		}
	}
	if g.chance(0.5) { // groups
		var keys, out []string
		for k := g.pick(3); k > 0; k-- {
			e, safe := g.plainExpr(cols)
			if safe {
				keys = append(keys, e)
			}
		}
		out = append(out, keys...)
		for k := 1 + g.pick(3); k > 0; k-- {
			out = append(out, g.aggExpr(cols))
		}
		s := "SELECT " + strings.Join(out, ", ") + " FROM " + from + where
		if len(keys) > 0 {
			s += " GROUP BY " + strings.Join(keys, ", ")
			if g.chance(0.3) {
				s += " HAVING " + g.aggExpr(cols) + fmt.Sprintf(" > %d", g.pick(5))
			}
		}
		if g.chance(0.6) {
			s += g.orderLimit(len(out))
			return s, len(out), true
		}
		return s, len(out), false
	}
	var out []string
	allSafe := true
	for k := 1 + g.pick(4); k > 0; k-- {
		e, safe := g.plainExpr(cols)
		out = append(out, e)
		allSafe = allSafe && safe
	}
	distinct := ""
	if g.chance(0.3) && allSafe {
		distinct = "DISTINCT "
	}
	s := "SELECT " + distinct + strings.Join(out, ", ") + " FROM " + from + where
	if allSafe && g.chance(0.6) {
		s += g.orderLimit(len(out))
		return s, len(out), true
	}
	return s, len(out), false
}

// subquery returns a condition with a subquery on another table.
func (g *queryGen) subquery(cols []qref) string {
	var ints []qref
	for _, c := range cols {
		if c.kind == "int" {
			ints = append(ints, c)
		}
	}
	if len(ints) == 0 {
		return "1 = 1"
	}
	c := ints[g.pick(len(ints))]
	t := randomTables[g.pick(len(randomTables))]
	inner := refs(t)
	var innerInts []qref
	for _, ic := range inner {
		if ic.kind == "int" {
			innerInts = append(innerInts, ic)
		}
	}
	ic := innerInts[g.pick(len(innerInts))]
	body := fmt.Sprintf("SELECT %s FROM %s %s2 WHERE %s", strings.Replace(ic.ref, t.alias+".", t.alias+"2.", 1), t.name, t.alias,
		strings.ReplaceAll(g.pred(inner, 1), t.alias+".", t.alias+"2."))
	switch g.pick(3) {
	case 0:
		return fmt.Sprintf("%s NOT IN (%s AND %s2.%s IS NOT NULL)", c.ref, body, t.alias, ic.name)
	case 1:
		return fmt.Sprintf("%s > (SELECT MIN(%s2.%s) FROM %s %s2)", c.ref, t.alias, ic.name, t.name, t.alias)
	}
	return fmt.Sprintf("%s IN (%s)", c.ref, body)
}

// query returns a random statement and whether its rows come ordered.
func (g *queryGen) query() (string, bool) {
	switch n := g.pick(10); {
	case n == 0: // UNION of two one-column selects of one kind
		a, b := g.oneColumn(), g.oneColumn()
		op := " UNION "
		if g.chance(0.5) {
			op = " UNION ALL "
		}
		s := "(" + a + ")" + op + "(" + b + ")"
		if g.chance(0.5) {
			s += " ORDER BY 1 LIMIT " + strconv.Itoa(1+g.pick(10))
			return s, true
		}
		return s, false
	case n == 1: // a derived table
		inner, _, _ := g.selectOne()
		s := "SELECT * FROM (" + inner + ") AS t"
		if g.chance(0.5) {
			s = "SELECT COUNT(*) FROM (" + inner + ") AS t"
		}
		return s, false
	}
	s, _, ordered := g.selectOne()
	return s, ordered
}

// oneColumn returns a SELECT of one safe integer column.
func (g *queryGen) oneColumn() string {
	t := randomTables[g.pick(len(randomTables))]
	cols := refs(t)
	var ints []qref
	for _, c := range cols {
		if c.kind == "int" {
			ints = append(ints, c)
		}
	}
	c := ints[g.pick(len(ints))]
	return fmt.Sprintf("SELECT %s FROM %s %s WHERE %s", c.ref, t.name, t.alias, g.pred(cols, 1))
}

// runRandomShapes runs n random statements of seed through proxy and oracle
// (both holding the shop data set) and fails on any difference but a refusal.
func runRandomShapes(t *testing.T, proxy, oracle *sql.DB, seed int64, n int) {
	g := &queryGen{r: rand.New(rand.NewSource(seed))}
	var qt tally
	for i := 0; i < n; i++ {
		sqlText, ordered := g.query()
		q := queryCase{ID: fmt.Sprintf("rnd%d", i), SQL: sqlText, Ordered: ordered, RefusalOK: true}
		want := runQuery(oracle, sqlText)
		got := runQuery(proxy, sqlText)
		if want.Err != nil { // the generator wrote something the server rejects: the proxy must too
			q.Error, q.AnyMessage = true, true
		}
		v, why := judge(q, got, want)
		qt.add("rnd", v)
		if v == failed {
			t.Errorf("seed %d, statement %d: %s\n  %s", seed, i, why, sqlText)
		}
	}
	t.Logf("SUMMARY random shapes (seed %d): %s", seed, qt.String())
}

// TestRandomShapesAt runs random shapes against a proxy that is already
// running with the shop data loaded (opt-in, for exploring: SG_RANDOM_PROXY
// is its address, SG_RANDOM_SEED and SG_RANDOM_N choose the statements).
func TestRandomShapesAt(t *testing.T) {
	addr := os.Getenv("SG_RANDOM_PROXY")
	if addr == "" {
		t.Skip("set SG_RANDOM_PROXY=host:port of a proxy serving the shop data (TestSharding runs the shapes itself)")
	}
	seed, _ := strconv.ParseInt(os.Getenv("SG_RANDOM_SEED"), 10, 64)
	n, _ := strconv.Atoi(os.Getenv("SG_RANDOM_N"))
	if n == 0 {
		n = 500
	}
	proxy := Open(t, DSN("app", "app", addr, "shop"))
	oracle := Open(t, DSN("sg", "sg", oracleAddr, "shop"))
	runRandomShapes(t, proxy, oracle, seed, n)
}
