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
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"os"
	"slices"
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
	key         []string // the primary key's columns
	cols        []rcol
}

var randomTables = []rtable{
	{"orders", "o", []string{"id"}, []rcol{
		{name: "id", kind: "int", lo: 1, hi: 22001},
		{name: "user_id", kind: "int", lo: 1, hi: 215, vals: []string{"'7'", "7.0", "-3", "0", "NULL"}},
		{name: "region_id", kind: "int", null: true, lo: 1, hi: 20},
		{name: "amount", kind: "dec", lo: 0, hi: 1000},
		{name: "status", kind: "str", vals: []string{"'archived'", "'cancelled'", "'new'", "'paid'", "'returned'", "'shipped'"}},
		{name: "tag", kind: "str", tie: true, null: true, vals: []string{"'green'", "'red'", "'blue'", "'grün'", "'w56'"}},
		{name: "created", kind: "dt", vals: []string{"'2024-03-01'", "'2024-06-15 12:00:00'", "'2024-11-30'", "'2025-01-01'"}},
		{name: "qty", kind: "int", lo: 1, hi: 12},
		{name: "score", kind: "dbl", null: true, lo: 0, hi: 100},
	}},
	{"order_items", "i", []string{"id"}, []rcol{
		{name: "id", kind: "int", lo: 1, hi: 5100},
		{name: "order_id", kind: "int", lo: 1, hi: 11821},
		{name: "product_id", kind: "int", lo: 1, hi: 100},
		{name: "qty", kind: "int", lo: 1, hi: 10},
		{name: "price", kind: "dec", lo: 0, hi: 500},
	}},
	{"events", "e", []string{"id"}, []rcol{
		{name: "id", kind: "int", lo: 1, hi: 7000, vals: []string{"249", "250", "251", "499", "500", "750", "751", "0", "-1"}},
		{name: "kind", kind: "str", tie: true, vals: []string{"'view'", "'share'", "'click'", "'buy'"}},
		{name: "value", kind: "int", null: true, lo: -100, hi: 900},
		{name: "amount", kind: "dec", lo: 0, hi: 1000},
		{name: "happened", kind: "dt", vals: []string{"'2024-02-01'", "'2024-07-01 08:00:00'", "'2024-12-01'"}},
	}},
	{"accounts", "a", []string{"code"}, []rcol{
		{name: "code", kind: "str", vals: []string{"'acc-0003'", "'acc-0004'", "'acc-0100'", "'acc-0250'"}},
		{name: "owner", kind: "str", tie: true, vals: []string{"'ana'", "'bob'"}},
		{name: "level", kind: "int", lo: 1, hi: 95},
		{name: "credit", kind: "dec", null: true, lo: 0, hi: 10000},
		{name: "opened", kind: "date", vals: []string{"'2023-06-01'", "'2024-01-01'", "'2024-09-15'"}},
		{name: "tier", kind: "enum", null: true, vals: []string{"'gold'", "'basic'", "'silver'"}},
	}},
	{"visits", "v", []string{"id", "visit_date"}, []rcol{
		{name: "id", kind: "int", lo: 1, hi: 400},
		{name: "visit_date", kind: "date", vals: []string{"'2024-03-31'", "'2024-04-01'", "'2024-07-01'", "'2024-12-31'", "'2025-01-15'", "'2025-10-01'", "'2026-01-01'", "'2023-12-31'"}},
		{name: "user_id", kind: "int", lo: 2, hi: 200},
		{name: "pages", kind: "int", lo: 1, hi: 30},
		{name: "duration", kind: "dbl", null: true, lo: 0, hi: 600},
		{name: "source", kind: "str", null: true, vals: []string{"'email'", "'social'", "'organic'", "'ads'"}},
	}},
	{"users", "u", []string{"id"}, []rcol{
		{name: "id", kind: "int", lo: 1, hi: 201},
		{name: "name", kind: "str", tie: true, vals: []string{"'ana'", "'Alice'", "'李雷'"}},
		{name: "region_id", kind: "int", null: true, lo: 1, hi: 20},
		{name: "created", kind: "date", vals: []string{"'2023-06-01'", "'2024-01-01'", "'2024-06-30'"}},
		{name: "balance", kind: "dec", null: true, lo: 0, hi: 10000},
	}},
	{"regions", "r", []string{"id"}, []rcol{
		{name: "id", kind: "int", lo: 1, hi: 20},
		{name: "name", kind: "str", vals: []string{"'North'", "'Zürich'", "'Skåne'"}},
		{name: "country", kind: "str", tie: true, null: true, vals: []string{"'US'", "'FR'", "'GB'", "'ES'"}},
	}},
	{"products", "p", []string{"id"}, []rcol{
		{name: "id", kind: "int", lo: 1, hi: 230},
		{name: "category", kind: "str", vals: []string{"'books'", "'garden'", "'tools'", "'food'", "'games'"}},
		{name: "price", kind: "dec", lo: 0, hi: 500},
		{name: "stock", kind: "int", null: true, lo: 0, hi: 100},
		{name: "origin_region", kind: "int", null: true, lo: 1, hi: 20},
	}},
}

// randomJoins are the joins the generator writes: "A JOIN B ON ...", with the
// tables' aliases; right may name its own ("orders o2", for a self-join),
// and an on ending in " RIGHT" is a RIGHT JOIN's.
var randomJoins = []struct{ left, right, on string }{
	{"orders", "orders o2", "o2.user_id = o.user_id AND o2.id = o.id + 1"}, // a self-join on the sharding key
	{"events", "events e2", "e2.id = e.value"},                             // a self-join across shards
	{"accounts", "accounts a2", "a2.level = a.level AND a2.code < a.code"},
	{"users", "regions", "r.id = u.region_id RIGHT"}, // RIGHT JOIN
	{"orders", "order_items", "i.order_id = o.id"},
	{"orders", "users", "u.id = o.user_id"},
	{"orders", "regions", "r.id = o.region_id"},
	{"events", "regions", "r.id = e.value"},
	{"visits", "users", "u.id = v.user_id"},
	{"order_items", "products", "p.id = i.product_id"},
	{"orders", "visits", "v.user_id = o.user_id"},
	{"orders", "events", "e.id = o.user_id"},
	{"accounts", "events", "e.value = a.level"},
	{"users", "products", "p.id = u.id"}, // tables on one node each, on two nodes
	{"products", "users", "u.id = p.id RIGHT"},
}

// randomJoins3 are joins of three tables.
var randomJoins3 = []struct {
	from   string
	tables []string
}{
	{"orders o JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id", []string{"orders", "order_items", "products"}},
	{"visits v JOIN users u ON u.id = v.user_id LEFT JOIN regions r ON r.id = u.region_id", []string{"visits", "users", "regions"}},
	{"orders o JOIN users u ON u.id = o.user_id JOIN regions r ON r.id = u.region_id", []string{"orders", "users", "regions"}},
	{"users u LEFT JOIN products p ON p.id = u.id JOIN regions r ON r.id = u.region_id", []string{"users", "products", "regions"}},
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

// from returns a FROM clause, its columns and the columns of its rows' key.
func (g *queryGen) from() (string, []qref, []string) {
	if g.chance(0.08) {
		j := randomJoins3[g.pick(len(randomJoins3))]
		var cols []qref
		var key []string
		for _, name := range j.tables {
			t := randomTable(name)
			cols, key = append(cols, refs(t)...), append(key, keyRefs(t)...)
		}
		return j.from, cols, key
	}
	if g.chance(0.3) {
		j := randomJoins[g.pick(len(randomJoins))]
		l := randomTable(j.left)
		name, alias, _ := strings.Cut(j.right, " ")
		r := randomTable(name)
		if alias != "" {
			r.alias = alias
		}
		kind := "JOIN"
		if g.chance(0.3) {
			kind = "LEFT JOIN"
		}
		if on, right := strings.CutSuffix(j.on, " RIGHT"); right {
			j.on, kind = on, "RIGHT JOIN"
		}
		return fmt.Sprintf("%s %s %s %s %s ON %s", l.name, l.alias, kind, r.name, r.alias, j.on),
			append(refs(l), refs(r)...), append(keyRefs(l), keyRefs(r)...)
	}
	t := randomTables[g.pick(len(randomTables))]
	return t.name + " " + t.alias, refs(t), keyRefs(t)
}

func keyRefs(t rtable) []string {
	out := make([]string, len(t.key))
	for i, k := range t.key {
		out[i] = t.alias + "." + k
	}
	return out
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
	switch n := g.pick(13); {
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
	case n == 5 && (c.kind == "int" || c.kind == "dec"):
		return fmt.Sprintf("%s + 0 = %s", c.ref, g.literal(c.rcol))
	case n == 5 && c.kind == "str" && g.chance(0.5):
		return fmt.Sprintf("%s COLLATE utf8mb4_bin %s %s", c.ref, []string{"=", "<", ">="}[g.pick(3)], g.literal(c.rcol))
	case n == 6 && c.null:
		return fmt.Sprintf("COALESCE(%s, %s) = %s", c.ref, g.literal(c.rcol), g.literal(c.rcol))
	case n == 7 && c.kind != "enum" && c.kind != "dbl":
		return fmt.Sprintf("%s NOT BETWEEN %s AND %s", c.ref, g.literal(c.rcol), g.literal(c.rcol))
	case n == 8 && c.kind == "int":
		v := c.lo + g.pick(c.hi-c.lo+1)
		k := g.pick(5)
		return fmt.Sprintf("%s = %d + %d", c.ref, v-k, k) // a key the router must compute
	case n == 8 && c.kind != "dbl" && c.kind != "enum":
		return fmt.Sprintf("(%s > %s) IS %sTRUE", c.ref, g.literal(c.rcol), []string{"", "NOT "}[g.pick(2)])
	case n == 9 && c.kind == "int":
		ints := intsOf(cols)
		d := ints[g.pick(len(ints))]
		pairs := make([]string, 1+g.pick(3))
		for i := range pairs {
			pairs[i] = "(" + g.literal(c.rcol) + ", " + g.literal(d.rcol) + ")"
		}
		return fmt.Sprintf("(%s, %s) IN (%s)", c.ref, d.ref, strings.Join(pairs, ", "))
	case n == 10 && c.kind == "str":
		return fmt.Sprintf("%s REGEXP '^[%c-%c]'", c.ref, "abcgn"[g.pick(5)], "orswz"[g.pick(5)])
	case n == 11 && c.kind == "str":
		return fmt.Sprintf("%s LIKE '%%%c%%'", c.ref, "aeiort"[g.pick(6)])
	default:
		ops := []string{"=", "<", ">", "<=", ">=", "<>", "<=>"}
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
	num := c.kind == "int" || c.kind == "dec"
	switch n := g.pick(22); {
	case n == 0 && num:
		return fmt.Sprintf("%s * %d + 1", c.ref, 1+g.pick(3)), safe
	case n == 1 && c.null:
		return fmt.Sprintf("IFNULL(%s, %s)", c.ref, g.literal(c.rcol)), safe
	case n == 2 && c.kind == "dt":
		return "DATE(" + c.ref + ")", safe
	case n == 3 && num:
		return fmt.Sprintf("CASE WHEN %s > %s THEN 'hi' ELSE 'lo' END", c.ref, g.literal(c.rcol)), safe
	case n == 4 && c.kind == "str" && !c.tie:
		return "UPPER(" + c.ref + ")", safe
	case n == 5 && (c.kind == "dt" || c.kind == "date"):
		return []string{"YEAR(", "MONTH(", "DAYOFWEEK("}[g.pick(3)] + c.ref + ")", true
	case n == 6 && c.kind == "str":
		return "CHAR_LENGTH(" + c.ref + ")", true // a number: no ties
	case n == 7 && num:
		return fmt.Sprintf("%s DIV %d", c.ref, 2+g.pick(20)), safe
	case n == 8 && num:
		return fmt.Sprintf("%s / %d", c.ref, 1+g.pick(7)), safe
	case n == 9 && c.kind == "str" && !c.tie:
		return fmt.Sprintf("CONCAT(%s, '-', %d)", c.ref, g.pick(9)), safe
	case n == 10 && num:
		return fmt.Sprintf("ROUND(%s, %d)", c.ref, g.pick(3)-1), safe
	case n == 11 && num:
		return fmt.Sprintf("ABS(%s - %s)", c.ref, g.literal(c.rcol)), safe
	case n == 12 && c.kind == "str" && !c.tie:
		return fmt.Sprintf("SUBSTRING(%s, %d, %d)", c.ref, 1+g.pick(3), 1+g.pick(4)), safe
	case n == 13 && (c.kind == "dt" || c.kind == "date"):
		if g.chance(0.5) {
			return "DATE_FORMAT(" + c.ref + ", '%Y-%m')", true
		}
		return "DATEDIFF(" + c.ref + ", '2024-01-01')", true
	case n == 14 && num:
		return fmt.Sprintf("IF(%s > %s, %s, NULL)", c.ref, g.literal(c.rcol), c.ref), safe
	case n == 15 && num:
		return "CAST(" + c.ref + " AS CHAR)", safe // ordered as strings: '10' < '9'
	case n == 16 && c.kind != "enum":
		return fmt.Sprintf("NULLIF(%s, %s)", c.ref, g.literal(c.rcol)), safe
	case n == 17 && num:
		return fmt.Sprintf("GREATEST(%s, %s)", c.ref, g.literal(c.rcol)), safe
	case n == 18 && c.kind == "int":
		return fmt.Sprintf("%s %% %d", c.ref, 2+g.pick(9)), safe
	case n == 19 && c.kind == "str" && !c.tie:
		return fmt.Sprintf("CONCAT_WS(',', %s, 'x')", c.ref), safe
	case n == 20 && (c.kind == "dt" || c.kind == "date"):
		return fmt.Sprintf("DATE_ADD(%s, INTERVAL %d DAY)", c.ref, 1+g.pick(40)), safe
	case n == 21 && c.kind != "dbl" && c.kind != "enum":
		return fmt.Sprintf("(%s > %s)", c.ref, g.literal(c.rcol)), true // 0, 1 or NULL
	}
	return c.ref, safe
}

// aggExpr returns an aggregate over cols.
func (g *queryGen) aggExpr(cols []qref) string {
	c := cols[g.pick(len(cols))]
	num := c.kind == "int" || c.kind == "dec"
	switch n := g.pick(22); {
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
	// (Not of an ENUM: sorted after the merge, the server's column type
	// for it depends on the shards' plan.)
	case n == 5 && !c.tie && c.kind != "enum":
		return "MIN(" + c.ref + ")"
	case n == 6 && !c.tie && c.kind != "enum":
		return "MAX(" + c.ref + ")"
	case n == 7 && num:
		return fmt.Sprintf("SUM(%s) - COUNT(*) * %d", c.ref, g.pick(5))
	case n == 8 && num && g.chance(0.5):
		return "SUM(DISTINCT " + c.ref + ")"
	case n == 8 && c.kind == "int":
		return "BIT_OR(" + c.ref + ")"
	case n == 9 && num:
		return fmt.Sprintf("SUM(%s) / COUNT(*)", c.ref)
	case n == 10 && num:
		return fmt.Sprintf("ROUND(AVG(%s), %d)", c.ref, g.pick(3))
	case n == 11 && !c.tie && c.kind != "dbl":
		d := cols[g.pick(len(cols))]
		if d.tie || d.kind == "dbl" {
			return "COUNT(DISTINCT " + c.ref + ")"
		}
		return "COUNT(DISTINCT " + c.ref + ", " + d.ref + ")"
	case n == 12 && !c.tie && c.kind != "dbl":
		return fmt.Sprintf("GROUP_CONCAT(DISTINCT %s ORDER BY %s SEPARATOR '|')", c.ref, c.ref)
	case n == 13 && num:
		return fmt.Sprintf("MAX(%s) - MIN(%s)", c.ref, c.ref)
	case n == 14 && c.null:
		return fmt.Sprintf("SUM(%s IS NULL)", c.ref)
	case n == 15:
		return "COUNT(CASE WHEN " + g.pred(cols, 1) + " THEN 1 END)"
	case n == 16 && num:
		return fmt.Sprintf("SUM(IF(%s > %s, 1, 0))", c.ref, g.literal(c.rcol))
	case n == 17 && num:
		return "AVG(DISTINCT " + c.ref + ")"
	case n == 18 && num:
		return []string{"MIN(", "MAX("}[g.pick(2)] + c.ref + fmt.Sprintf(" * %d - 1)", 1+g.pick(3))
	case n == 19 && c.kind == "int":
		return []string{"BIT_AND(", "BIT_XOR("}[g.pick(2)] + c.ref + ")"
	case n == 20 && num:
		return fmt.Sprintf("COUNT(DISTINCT %s DIV %d)", c.ref, 2+g.pick(5))
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
	return " ORDER BY " + strings.Join(pos, ", ") + g.limit()
}

func (g *queryGen) limit() string {
	if !g.chance(0.7) {
		return ""
	}
	s := fmt.Sprintf(" LIMIT %d", 1+g.pick(12))
	if g.chance(0.3) {
		s += fmt.Sprintf(" OFFSET %d", g.pick(20))
	}
	return s
}

// selectOne returns a SELECT, the number of its columns and whether its rows
// come ordered.
func (g *queryGen) selectOne() (string, int, bool) {
	from, cols, key := g.from()
	where := ""
	if g.chance(0.75) {
		where = " WHERE " + g.pred(cols, 0)
		if g.chance(0.2) {
			where += " AND " + g.subquery(cols)
		}
	}
	if g.chance(0.45) { // groups
		var keys, out []string
		for k := g.pick(3); k > 0; k-- {
			e, safe := g.plainExpr(cols)
			if safe {
				keys = append(keys, e)
			}
		}
		out = append(out, keys...)
		named := g.chance(0.2) // aggregates named, and HAVING and ORDER BY by name
		for k := 1 + g.pick(3); k > 0; k-- {
			a := g.aggExpr(cols)
			if named {
				a += fmt.Sprintf(" AS a%d", k)
			}
			out = append(out, a)
		}
		groupBy := keys
		switch {
		case len(keys) > 0 && g.chance(0.15): // by position
			groupBy = positions(len(keys))
		case len(keys) > 0 && g.chance(0.15): // by alias
			groupBy = make([]string, len(keys))
			for i := range keys {
				groupBy[i] = fmt.Sprintf("g%d", i+1)
				out[i] += " AS " + groupBy[i]
			}
		}
		s := "SELECT " + strings.Join(out, ", ") + " FROM " + from + where
		if len(keys) > 0 {
			s += " GROUP BY " + strings.Join(groupBy, ", ")
			// (Not over DISTINCT aggregates: MariaDB 10.11's total row of
			// COUNT(DISTINCT source, id) over visits counts 385 of 384.)
			if g.chance(0.1) && !strings.Contains(s, "DISTINCT") {
				return s + " WITH ROLLUP", len(out), false
			}
			switch {
			case named && g.chance(0.5):
				s += fmt.Sprintf(" HAVING a1 > %d", g.pick(5))
			case g.chance(0.3):
				s += " HAVING " + g.aggExpr(cols) + fmt.Sprintf(" > %d", g.pick(5))
			}
			if named && g.chance(0.5) {
				return s + " ORDER BY a1 DESC, " + strings.Join(positions(len(out)), ", ") + g.limit(), len(out), true
			}
			if g.chance(0.2) { // an aggregate the SELECT lacks first, then every column
				return s + " ORDER BY " + g.aggExpr(cols) + " DESC, " + strings.Join(positions(len(out)), ", ") + g.limit(), len(out), true
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
	if g.chance(0.1) {
		out = append(out, fmt.Sprintf("ROW_NUMBER() OVER (ORDER BY %s)", strings.Join(key, ", ")))
	}
	if g.chance(0.1) {
		out = append(out, g.scalarSubquery(cols))
	}
	distinct := ""
	if g.chance(0.3) && allSafe {
		distinct = "DISTINCT "
	}
	s := "SELECT " + distinct + strings.Join(out, ", ") + " FROM " + from + where
	switch {
	case distinct == "" && g.chance(0.3): // by some column, then the key: total
		c := cols[g.pick(len(cols))]
		dir := ""
		if g.chance(0.5) {
			dir = " DESC"
		}
		if c.tie {
			return s + " ORDER BY " + strings.Join(key, ", ") + g.limit(), len(out), true
		}
		return s + " ORDER BY " + c.ref + dir + ", " + strings.Join(key, ", ") + g.limit(), len(out), true
	case allSafe && g.chance(0.6):
		s += g.orderLimit(len(out))
		return s, len(out), true
	}
	return s, len(out), false
}

func positions(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i + 1)
	}
	return out
}

// scalarSubquery returns a correlated subquery of one value for the SELECT list.
func (g *queryGen) scalarSubquery(cols []qref) string {
	for _, c := range cols {
		switch c.ref {
		case "o.id":
			return "(SELECT COUNT(*) FROM order_items i2 WHERE i2.order_id = o.id)"
		case "o.user_id":
			return "(SELECT u2.created FROM users u2 WHERE u2.id = o.user_id)"
		case "e.value":
			return "(SELECT r2.country IS NULL FROM regions r2 WHERE r2.id = e.value)"
		case "i.product_id":
			return "(SELECT p2.price FROM products p2 WHERE p2.id = i.product_id)"
		}
	}
	return "(SELECT COUNT(*) FROM regions)"
}

// subquery returns a condition with a subquery on another table.
func (g *queryGen) subquery(cols []qref) string {
	ints := intsOf(cols)
	if len(ints) == 0 {
		return "1 = 1"
	}
	c := ints[g.pick(len(ints))]
	t := randomTables[g.pick(len(randomTables))]
	inner := refs(t)
	innerInts := intsOf(inner)
	ic := innerInts[g.pick(len(innerInts))]
	alias2 := t.alias + "2."
	body := fmt.Sprintf("SELECT %s FROM %s %s2 WHERE %s", strings.Replace(ic.ref, t.alias+".", alias2, 1), t.name, t.alias,
		strings.ReplaceAll(g.pred(inner, 1), t.alias+".", alias2))
	switch g.pick(5) {
	case 0:
		return fmt.Sprintf("%s NOT IN (%s AND %s%s IS NOT NULL)", c.ref, body, alias2, ic.name)
	case 1:
		return fmt.Sprintf("%s > (SELECT MIN(%s%s) FROM %s %s2)", c.ref, alias2, ic.name, t.name, t.alias)
	case 2: // correlated
		return fmt.Sprintf("EXISTS (%s AND %s%s = %s)", body, alias2, ic.name, c.ref)
	case 3:
		return fmt.Sprintf("%s = ANY (%s)", c.ref, body)
	}
	return fmt.Sprintf("%s IN (%s)", c.ref, body)
}

// query returns a random statement and whether its rows come ordered.
func (g *queryGen) query() (string, bool) {
	switch n := g.pick(12); {
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
	case n == 2: // a WITH query
		inner, _, _ := g.selectOne()
		// (its ORDER BY orders nothing outside it)
		return "WITH w AS (" + inner + ") SELECT * FROM w", false
	case n == 3: // a window over groups of the sharding key
		t := randomTables[g.pick(len(randomTables))]
		cols := refs(t)
		c := cols[g.pick(len(cols))]
		if c.tie {
			c = cols[0]
		}
		key := strings.Join(keyRefs(t), ", ")
		fn := []string{"ROW_NUMBER()", "RANK()", "DENSE_RANK()", fmt.Sprintf("SUM(%s)", cols[0].ref), "COUNT(*)", fmt.Sprintf("LAG(%s)", cols[0].ref)}[g.pick(6)]
		return fmt.Sprintf("SELECT %s, %s, %s OVER (PARTITION BY %s ORDER BY %s) FROM %s %s WHERE %s ORDER BY %s",
			key, c.ref, fn, c.ref, key, t.name, t.alias, g.pred(cols, 1), key), true
	case n == 4: // groups of a derived table joined with their parent rows
		src := []struct{ table, key, parent, on string }{
			{"orders o", "o.user_id", "users u", "u.id = t.k"},
			{"visits v", "v.user_id", "users u", "u.id = t.k"},
			{"order_items i", "i.product_id", "products p", "p.id = t.k"},
			{"orders o", "o.region_id", "regions r", "r.id = t.k"},
		}[g.pick(4)]
		t := randomTable(strings.Fields(src.table)[0])
		cols := refs(t)
		parent := refs(randomTable(strings.Fields(src.parent)[0]))
		pc := parent[1+g.pick(len(parent)-1)]
		return fmt.Sprintf("SELECT t.k, t.n, t.a, %s FROM (SELECT %s AS k, COUNT(*) AS n, %s AS a FROM %s WHERE %s GROUP BY %s) AS t JOIN %s ON %s WHERE t.n > %d ORDER BY t.k%s",
			pc.ref, src.key, g.aggExpr(cols), src.table, g.pred(cols, 1), src.key, src.parent, src.on, g.pick(3), g.limit()), true
	case n == 5: // aggregates over a limited, ordered derived table
		t := randomTables[g.pick(len(randomTables))]
		cols := refs(t)
		c := intsOf(cols)[0]
		return fmt.Sprintf("SELECT COUNT(*), SUM(x), MIN(x), MAX(x) FROM (SELECT %s AS x FROM %s %s WHERE %s ORDER BY %s LIMIT %d OFFSET %d) AS d",
			c.ref, t.name, t.alias, g.pred(cols, 1), strings.Join(keyRefs(t), ", "), 1+g.pick(30), g.pick(10)), false
	case n == 6 && g.chance(0.3): // MariaDB refuses LIMIT in an IN subquery (1235): so must the proxy
		return "SELECT o.id FROM orders o WHERE o.user_id IN (SELECT u.id FROM users u ORDER BY u.id LIMIT 3)", false
	case n == 7: // three branches
		a, b, c := g.oneColumn(), g.oneColumn(), g.oneColumn()
		ops := []string{" UNION ", " UNION ALL "}
		return "(" + a + ")" + ops[g.pick(2)] + "(" + b + ")" + ops[g.pick(2)] + "(" + c + ")", false
	case n == 8 && g.chance(0.5): // INTERSECT and EXCEPT
		op := []string{" INTERSECT ", " EXCEPT ", " INTERSECT ALL ", " EXCEPT ALL "}[g.pick(4)]
		return "(" + g.oneColumn() + ")" + op + "(" + g.oneColumn() + ")", false
	case n == 9 && g.chance(0.5): // joins by USING and NATURAL (shared column names)
		j := []struct{ from, table, cols, key string }{
			{"orders o JOIN visits v USING (user_id)", "orders", "user_id, o.amount, v.pages", "o.id, v.id, v.visit_date"},
			{"users u JOIN regions r USING (id)", "users", "id, u.name, r.name", "id"},
			{"orders o LEFT JOIN users u USING (region_id, created)", "orders", "o.id, region_id, created, u.id", "o.id, u.id"},
			{"order_items i NATURAL JOIN products p", "order_items", "id, qty, price, category", "id"},
			{"orders o NATURAL LEFT JOIN users u", "orders", "o.id, user_id, u.name", "o.id"},
		}[g.pick(5)]
		cols := refs(randomTable(j.table))
		where := ""
		if g.chance(0.7) {
			where = " WHERE " + g.pred(cols, 1)
		}
		if g.chance(0.3) {
			return "SELECT * FROM " + j.from + where + " ORDER BY " + j.key + g.limit(), true
		}
		return "SELECT " + j.cols + " FROM " + j.from + where + " ORDER BY " + j.key + g.limit(), true
	case n == 10 && g.chance(0.4): // JSON aggregates
		// (ORDER BY and DISTINCT inside JSON_ARRAYAGG are MariaDB's, not
		// MySQL's: the proxy's parser rejects them. Without them the
		// order of the array is the server's, so it is asked of one-row
		// groups only, or counted.)
		t := randomTables[g.pick(len(randomTables))]
		cols := refs(t)
		c, g2 := cols[g.pick(len(cols))], cols[g.pick(len(cols))]
		if g2.tie { // (one value stands for its group)
			g2 = cols[0]
		}
		key := keyRefs(t)
		switch {
		case len(key) == 1 && g.chance(0.5):
			agg := []string{"JSON_ARRAYAGG(" + c.ref + ")", "JSON_OBJECTAGG(" + key[0] + ", " + c.ref + ")"}[g.pick(2)]
			return fmt.Sprintf("SELECT %s, %s FROM %s %s WHERE %s GROUP BY %s ORDER BY %s%s", key[0], agg, t.name, t.alias, g.pred(cols, 1), key[0], key[0], g.limit()), true
		default:
			return fmt.Sprintf("SELECT %s, JSON_LENGTH(JSON_ARRAYAGG(%s)) FROM %s %s WHERE %s GROUP BY %s ORDER BY %s", g2.ref, c.ref, t.name, t.alias, g.pred(cols, 1), g2.ref, g2.ref), true
		}
	case n == 11 && g.chance(0.2): // no rows asked for
		inner, _, _ := g.selectOne()
		return "SELECT * FROM (" + inner + ") AS t LIMIT 0", false
	}
	s, _, ordered := g.selectOne()
	return s, ordered
}

// oneColumn returns a SELECT of one safe integer column.
func (g *queryGen) oneColumn() string {
	t := randomTables[g.pick(len(randomTables))]
	cols := refs(t)
	ints := intsOf(cols)
	c := ints[g.pick(len(ints))]
	return fmt.Sprintf("SELECT %s FROM %s %s WHERE %s", c.ref, t.name, t.alias, g.pred(cols, 1))
}

// intsOf returns the integer columns of cols.
func intsOf(cols []qref) []qref {
	var ints []qref
	for _, c := range cols {
		if c.kind == "int" {
			ints = append(ints, c)
		}
	}
	return ints
}

// placeholders turns the integer, decimal and string literals after the first
// WHERE into ? markers, for a prepared run, and returns their values; ok
// is false when there is none. (Not in ORDER BY or GROUP BY, where ? is a
// value, not a position, nor LIMIT's, nor a negative number's.)
func placeholders(sqlText string) (string, []any, bool) {
	w := strings.Index(sqlText, " WHERE ")
	if w < 0 {
		return "", nil, false
	}
	end := len(sqlText)
	for _, clause := range []string{" GROUP BY ", " ORDER BY "} {
		if k := strings.Index(sqlText[w:], clause); k >= 0 {
			end = min(end, w+k)
		}
	}
	var out strings.Builder
	var args []any
	out.WriteString(sqlText[:w+7])
	last := w + 7
	for i := w + 7; i < end; i++ {
		ch := sqlText[i]
		if ch == '\'' {
			j := strings.IndexByte(sqlText[i+1:], '\'')
			if j < 0 {
				return "", nil, false
			}
			out.WriteString(sqlText[last:i] + "?")
			args = append(args, sqlText[i+1:i+1+j])
			i += j + 1
			last = i + 1
			continue
		}
		if ch < '0' || ch > '9' || sqlText[i-1] != ' ' && sqlText[i-1] != '(' {
			continue
		}
		j := i
		for j < len(sqlText) && sqlText[j] >= '0' && sqlText[j] <= '9' {
			j++
		}
		before := strings.TrimRight(sqlText[:i], " ")
		if j+1 < end && sqlText[j] == '.' && sqlText[j+1] >= '0' && sqlText[j+1] <= '9' && !strings.HasSuffix(before, "-") {
			// a decimal: a DOUBLE parameter
			k := j + 1
			for k < len(sqlText) && sqlText[k] >= '0' && sqlText[k] <= '9' {
				k++
			}
			if f, err := strconv.ParseFloat(sqlText[i:k], 64); err == nil {
				out.WriteString(sqlText[last:i] + "?")
				args = append(args, f)
				last, i = k, k-1
				continue
			}
		}
		if j < end && (sqlText[j] == '.' || sqlText[j] == '-' || sqlText[j] == ':') ||
			strings.HasSuffix(before, "LIMIT") || strings.HasSuffix(before, "OFFSET") || strings.HasSuffix(before, "-") {
			i = j - 1
			continue
		}
		v, err := strconv.ParseInt(sqlText[i:j], 10, 64)
		if err != nil {
			return "", nil, false
		}
		out.WriteString(sqlText[last:i] + "?")
		args = append(args, v)
		last, i = j, j-1
	}
	out.WriteString(sqlText[last:])
	return out.String(), args, len(args) > 0
}

// runRandomShapes runs n random statements of seed through proxy and oracle
// (both holding the shop data set) and fails on any difference but a refusal.
func runRandomShapes(t *testing.T, proxy, oracle *sql.DB, seed int64, n int) {
	g := &queryGen{r: rand.New(rand.NewSource(seed))}
	var qt tally
	for i := 0; i < n; i++ {
		sqlText, ordered := g.query()
		check := func(how, text string, args ...any) {
			q := queryCase{ID: fmt.Sprintf("rnd%d", i), SQL: text, Ordered: ordered, RefusalOK: true}
			want := runQuery(oracle, text, args...)
			got := runQuery(proxy, text, args...)
			if want.Err != nil { // the generator wrote something the server rejects: the proxy must too
				q.Error, q.AnyMessage = true, true
			}
			v, why := judge(q, got, want)
			qt.add(how+strconv.Itoa(i), v)
			if v == failed {
				t.Errorf("seed %d, statement %d (%s): %s\n  %s %v", seed, i, how, why, text, args)
			}
			if v == refused && showRefusals {
				_, msg := errInfo(got.Err)
				t.Logf("refused (%s): %s\n  %s", how, msg, text)
			}
		}
		check("text", sqlText)
		if ps, args, ok := placeholders(sqlText); ok {
			check("prepared", ps, args...)
		}
	}
	t.Logf("SUMMARY random shapes (seed %d): %s", seed, qt.String())
}

// showRefusals logs each refused statement (SG_RANDOM_REFUSALS=1), to see
// what the proxy still cannot answer.
var showRefusals = os.Getenv("SG_RANDOM_REFUSALS") != ""

// randomSeeds are the seeds TestSharding runs: 1 and 2, or those of
// SG_RANDOM_SEEDS (space-separated), to explore more.
func randomSeeds() []int64 {
	seeds := []int64{1, 2}
	if env := strings.Fields(os.Getenv("SG_RANDOM_SEEDS")); len(env) > 0 {
		seeds = seeds[:0]
		for _, f := range env {
			if n, err := strconv.ParseInt(f, 10, 64); err == nil {
				seeds = append(seeds, n)
			}
		}
	}
	return seeds
}

// TestRandomShapesAt runs random shapes against a proxy that is already
// running with the shop data loaded (opt-in, for exploring: SG_RANDOM_PROXY
// is its address, SG_RANDOM_SEED and SG_RANDOM_N choose the statements),
// then SG_RANDOM_WRITES random writes (they change the data of both);
// SG_RANDOM_PARAMS sets session variables on both.
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
	// SG_RANDOM_PARAMS: session settings for both, as DSN parameters
	// (sql_mode=%27ONLY_FULL_GROUP_BY%27&charset=latin1).
	params := strings.Fields(os.Getenv("SG_RANDOM_PARAMS"))
	proxy := Open(t, DSN("app", "app", addr, "shop", params...))
	oracle := Open(t, DSN("sg", "sg", oracleAddr, "shop", params...))
	runRandomShapes(t, proxy, oracle, seed, n)
	if w, _ := strconv.Atoi(os.Getenv("SG_RANDOM_WRITES")); w > 0 {
		runRandomWrites(t, proxy, oracle, seed, w)
	}
}

// writeGen writes random INSERT, UPDATE, DELETE and REPLACE statements:
// new rows take ids from base up, so that they meet no data set row
// unless a statement means to (ON DUPLICATE KEY UPDATE, REPLACE).
type writeGen struct {
	queryGen
	base, next int
}

// insertable are the tables whose NOT NULL columns the generator knows.
var insertable = []string{"orders", "order_items", "events", "accounts", "visits", "users", "regions"}

// row returns a column list and values for a new row of t, its key new
// (or, with old, one of the data set's).
func (g *writeGen) row(t rtable, old bool) (string, string) {
	var names, vals []string
	for _, c := range t.cols {
		v := g.literal(c)
		switch {
		case v == "NULL" && !c.null:
			v = strconv.Itoa(c.lo)
		case c.null && g.chance(0.2):
			v = "NULL"
		}
		if slices.Contains(t.key, c.name) && c.kind != "date" {
			switch {
			case old && c.kind == "str":
				v = fmt.Sprintf("'acc-%04d'", 1+g.pick(300))
			case old:
				v = strconv.Itoa(c.lo + g.pick(min(c.hi-c.lo+1, 200)))
			case c.kind == "str":
				g.next++
				v = fmt.Sprintf("'rnd-%d-%d'", g.base, g.next)
			default:
				g.next++
				v = strconv.Itoa(g.base + g.next)
			}
		}
		names = append(names, c.name)
		vals = append(vals, v)
	}
	return strings.Join(names, ", "), strings.Join(vals, ", ")
}

// assignment returns "col = value" for a column of t that is not its key.
func (g *writeGen) assignment(t rtable) string {
	for {
		c := t.cols[g.pick(len(t.cols))]
		if slices.Contains(t.key, c.name) {
			continue
		}
		switch {
		case (c.kind == "int" || c.kind == "dec") && g.chance(0.5):
			return fmt.Sprintf("%s = %s + 1", c.name, c.name)
		case c.kind == "dec" && g.chance(0.3):
			return fmt.Sprintf("%s = ROUND(%s * 1.1, 2)", c.name, c.name)
		case (c.kind == "dt" || c.kind == "date") && g.chance(0.4):
			return fmt.Sprintf("%s = DATE_ADD(%s, INTERVAL %d DAY)", c.name, c.name, 1+g.pick(40))
		case c.kind == "str" && c.null && g.chance(0.3):
			return fmt.Sprintf("%s = CONCAT(IFNULL(%s, ''), 'x')", c.name, c.name)
		case c.null && g.chance(0.2):
			return c.name + " = NULL"
		}
		v := g.literal(c)
		if v == "NULL" && !c.null {
			v = strconv.Itoa(c.lo)
		}
		return c.name + " = " + v
	}
}

// narrow returns a condition on t's key that meets a few rows at most.
func (g *writeGen) narrow(t rtable) string {
	k := t.cols[0] // the key's first column (id or code)
	if k.kind == "str" {
		return fmt.Sprintf("%s IN ('acc-%04d', 'acc-%04d')", k.name, 1+g.pick(300), 1+g.pick(300))
	}
	lo := k.lo + g.pick(max(k.hi-k.lo, 1))
	return fmt.Sprintf("%s BETWEEN %d AND %d", k.name, lo, lo+g.pick(8))
}

// write returns a random write statement and the table it changes.
func (g *writeGen) write() (string, string) {
	t := randomTable(insertable[g.pick(len(insertable))])
	cols := make([]qref, len(t.cols))
	for i, c := range t.cols {
		cols[i] = qref{c, c.name}
	}
	switch n := g.pick(15); n {
	case 11: // several rows, some there, each updated by its own new values
		names, vals := g.row(t, g.chance(0.5) && !perShardKey(t.name))
		_, more := g.row(t, !perShardKey(t.name))
		set := g.assignment(t)
		col, _, _ := strings.Cut(set, " ")
		return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s), (%s) ON DUPLICATE KEY UPDATE %s = VALUES(%s)", t.name, names, vals, more, col, col), t.name
	case 12: // INSERT ... SET
		names, vals := g.row(t, false)
		ns, vs := strings.Split(names, ", "), strings.Split(vals, ", ")
		set := make([]string, len(ns))
		for i := range ns {
			set[i] = ns[i] + " = " + vs[i]
		}
		return fmt.Sprintf("INSERT INTO %s SET %s", t.name, strings.Join(set, ", ")), t.name
	case 13: // ordered and limited: one shard's rows, or refused
		key := strings.Join(t.key, ", ")
		if g.chance(0.5) {
			return fmt.Sprintf("DELETE FROM %s WHERE %s ORDER BY %s DESC LIMIT %d", t.name, g.narrow(t), key, 1+g.pick(3)), t.name
		}
		return fmt.Sprintf("UPDATE %s SET %s WHERE %s ORDER BY %s LIMIT %d", t.name, g.assignment(t), g.narrow(t), key, 1+g.pick(3)), t.name
	case 9: // INSERT IGNORE, sometimes of a row that is there
		names, vals := g.row(t, g.chance(0.5) && !perShardKey(t.name))
		return fmt.Sprintf("INSERT IGNORE INTO %s (%s) VALUES (%s)", t.name, names, vals), t.name
	case 10: // a write over a join
		return g.joinWrite()
	case 0, 1:
		names, vals := g.row(t, false)
		s := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", t.name, names, vals)
		for k := g.pick(3); k > 0; k-- {
			_, more := g.row(t, false)
			s += ", (" + more + ")"
		}
		return s, t.name
	case 2:
		// (An old key of orders or order_items, under another sharding
		// value, is a new row on another shard: a primary key without
		// the sharding column is unique per shard only.)
		names, vals := g.row(t, !perShardKey(t.name))
		return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON DUPLICATE KEY UPDATE %s", t.name, names, vals, g.assignment(t)), t.name
	case 3:
		names, vals := g.row(t, g.chance(0.5) && !perShardKey(t.name))
		return fmt.Sprintf("REPLACE INTO %s (%s) VALUES (%s)", t.name, names, vals), t.name
	case 4:
		return fmt.Sprintf("DELETE FROM %s WHERE %s AND %s", t.name, g.narrow(t), g.pred(cols, 1)), t.name
	case 5:
		// a copy of a few rows under new keys
		key := t.cols[0]
		if key.kind != "int" || len(t.key) > 1 {
			return fmt.Sprintf("UPDATE %s SET %s WHERE %s", t.name, g.assignment(t), g.narrow(t)), t.name
		}
		var names, sel []string
		g.next += 20
		for _, c := range t.cols {
			names = append(names, c.name)
			if c.name == key.name {
				sel = append(sel, fmt.Sprintf("%s + %d", c.name, g.base+g.next*1000))
			} else {
				sel = append(sel, c.name)
			}
		}
		return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE %s", t.name, strings.Join(names, ", "), strings.Join(sel, ", "), t.name, g.narrow(t)), t.name
	default:
		set := g.assignment(t)
		if g.chance(0.3) {
			set += ", " + g.assignment(t)
		}
		where := g.narrow(t)
		if g.chance(0.5) {
			where += " AND " + g.pred(cols, 1)
		}
		if g.chance(0.2) {
			where = g.pred(cols, 1) // wider
		}
		return fmt.Sprintf("UPDATE %s SET %s WHERE %s", t.name, set, where), t.name
	}
}

// joinWrite returns an UPDATE or DELETE over a join or with a subquery,
// and the table it changes.
func (g *writeGen) joinWrite() (string, string) {
	user := 1 + g.pick(215)
	switch g.pick(6) {
	case 0: // parent and child rows, on one shard
		return fmt.Sprintf("UPDATE orders o JOIN order_items i ON i.order_id = o.id SET i.qty = i.qty + 1, o.qty = o.qty + 1 WHERE o.user_id = %d AND i.price > %d", user, g.pick(400)), "order_items"
	case 1: // with a global table, over every shard
		return fmt.Sprintf("UPDATE orders o JOIN regions r ON r.id = o.region_id SET o.amount = o.amount + 1 WHERE r.country = %s AND o.user_id BETWEEN %d AND %d",
			[]string{"'FR'", "'US'", "'GB'"}[g.pick(3)], user, user+10), "orders"
	case 2:
		return fmt.Sprintf("DELETE i FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.user_id = %d AND i.qty > %d", user, 3+g.pick(7)), "order_items"
	case 3:
		lo := 1 + g.pick(7000)
		return fmt.Sprintf("UPDATE events e JOIN regions r ON r.id = e.value SET e.amount = e.amount + r.id WHERE e.id BETWEEN %d AND %d", lo, lo+40), "events"
	case 4:
		lo := 1 + g.pick(7000)
		return fmt.Sprintf("DELETE FROM events WHERE value IN (SELECT id FROM regions WHERE country = 'FR') AND id BETWEEN %d AND %d", lo, lo+60), "events"
	}
	// a subquery over another node's shards
	return fmt.Sprintf("UPDATE users SET balance = IFNULL(balance, 0) + 1 WHERE id IN (SELECT user_id FROM orders WHERE amount > %d AND user_id < %d)", 900+g.pick(100), user), "users"
}

// unplaceable: the proxy's error for a row that has no shard: a child row
// without its parent (1452), a date before the rule's start (1411).
func unplaceable(err error) bool {
	code, msg := errInfo(err)
	return (code == 1452 || code == 1411) && (strings.Contains(msg, "cannot place") || strings.Contains(msg, "cannot move"))
}

// perShardKey: the table's primary key lacks its sharding column.
func perShardKey(table string) bool { return table == "orders" || table == "order_items" }

// runRandomWrites runs n random writes of seed through proxy and oracle,
// each on one connection of each, and compares what each changed: the
// answer (affected rows, or the error code) and the table after it. A
// refused write is not run on the oracle. Some run in a transaction of a
// few writes, committed or rolled back, and the tables it wrote are
// compared after. It stops at the first difference: the data may differ
// from there on.
func runRandomWrites(t *testing.T, proxy, oracle *sql.DB, seed int64, n int) {
	w := &writeRun{
		t: t, pc: Conn(t, proxy), oc: Conn(t, oracle), written: map[string]bool{},
		g: &writeGen{queryGen: queryGen{r: rand.New(rand.NewSource(seed))}, base: 700000 + int(seed)*10000},
	}
	for i := 0; i < n; i++ {
		if w.txLeft == 0 && w.g.chance(0.1) {
			w.both("BEGIN")
			w.txLeft = 1 + w.g.pick(4)
		}
		if why := w.one(); why != "" {
			t.Fatalf("seed %d, write %d: %s", seed, i, why)
		}
		if i == n-1 && w.txLeft > 0 {
			w.txLeft = 1 // (its locks would hold the next run's writes)
		}
		if w.txLeft > 0 {
			if w.txLeft--; w.txLeft == 0 {
				end := "COMMIT"
				if w.g.chance(0.4) {
					end = "ROLLBACK"
				}
				w.both(end)
				for table := range w.written {
					if d := w.compare(table); d != "" {
						t.Fatalf("seed %d, after %s of the writes before %d, %s differs: %s", seed, end, i+1, table, d)
					}
				}
			}
		}
		if w.txLeft == 0 {
			clear(w.written)
		}
	}
	t.Logf("SUMMARY random writes (seed %d): %s", seed, w.tally.String())
}

// writeRun is runRandomWrites's state: the generator, one connection to
// each, and the open transaction (the writes left in it, the tables it
// wrote).
type writeRun struct {
	t       *testing.T
	g       *writeGen
	pc, oc  *sql.Conn
	tally   tally
	txLeft  int
	written map[string]bool
}

// both runs a statement that must succeed on both.
func (w *writeRun) both(stmt string) {
	w.t.Helper()
	if _, err := w.pc.ExecContext(context.Background(), stmt); err != nil {
		w.t.Fatalf("proxy: %s: %v", stmt, err)
	}
	if _, err := w.oc.ExecContext(context.Background(), stmt); err != nil {
		w.t.Fatalf("oracle: %s: %v", stmt, err)
	}
}

// compare compares a table through both.
func (w *writeRun) compare(table string) string {
	q := "SELECT * FROM " + table + " ORDER BY " + strings.Join(randomTable(table).key, ", ")
	return compareResults(runQuery(w.pc, q), runQuery(w.oc, q), true)
}

// tried runs a write on the oracle and undoes it.
func (w *writeRun) tried(stmt string, args []any) (sql.Result, error) {
	ctx := context.Background()
	if w.txLeft > 0 {
		w.both("SAVEPOINT sg_random")
		defer w.both("ROLLBACK TO SAVEPOINT sg_random")
		return w.oc.ExecContext(ctx, stmt, args...)
	}
	tx, err := w.oc.BeginTx(ctx, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	defer tx.Rollback()
	return tx.ExecContext(ctx, stmt, args...)
}

// one runs one random write through both and returns how they differ (""
// when they do not).
func (w *writeRun) one() string {
	ctx := context.Background()
	stmt, table := w.g.write()
	var args []any // prepared, with the WHERE's literals as ? (some of the time)
	if ps, psArgs, ok := placeholders(stmt); ok && w.g.chance(0.3) {
		stmt, args = ps, psArgs
	}
	pres, perr := w.pc.ExecContext(ctx, stmt, args...)
	if isRefusal(perr) {
		w.tally.add("refused", refused)
		if showRefusals {
			_, msg := errInfo(perr)
			w.t.Logf("refused: %s\n  %s", msg, stmt)
		}
		return ""
	}
	var ores sql.Result
	var oerr error
	if perr == nil {
		ores, oerr = w.oc.ExecContext(ctx, stmt, args...)
		w.written[table] = true
	} else {
		// The oracle must fail alike; if it does not, its change is
		// undone so that both stay equal.
		ores, oerr = w.tried(stmt, args)
		if unplaceable(perr) && oerr == nil {
			// The oracle has no foreign key or date range to refuse it;
			// the proxy must have changed nothing.
			if d := w.compare(table); d != "" {
				return "after the proxy's error " + perr.Error() + ": " + d + "\n  " + stmt
			}
			w.tally.add("refused", refused)
			return ""
		}
	}
	pcode, _ := errInfo(perr)
	ocode, _ := errInfo(oerr)
	why := ""
	switch {
	case (perr == nil) != (oerr == nil):
		why = fmt.Sprintf("proxy %v, oracle %v", perr, oerr)
	case pcode != ocode:
		why = fmt.Sprintf("error differs: proxy %v, oracle %v", perr, oerr)
	case perr == nil:
		pn, _ := pres.RowsAffected()
		on, _ := ores.RowsAffected()
		if pn != on {
			why = fmt.Sprintf("affected rows: proxy %d, oracle %d", pn, on)
		}
	}
	if why == "" {
		why = w.compare(table)
	}
	if why == "" && (table == "orders" || table == "order_items") {
		// The child rows of one parent are on one shard (their parent's):
		// grouped per shard by order_id, no group comes twice.
		q := "SELECT order_id, COUNT(*) FROM order_items GROUP BY order_id"
		if d := compareResults(runQuery(w.pc, q), runQuery(w.oc, q), false); d != "" {
			why = "a child row left its parent's shard: " + d
		}
	}
	if why != "" {
		return fmt.Sprintf("%s\n  %s %v", why, stmt, args)
	}
	w.tally.add("write", passed)
	return ""
}
