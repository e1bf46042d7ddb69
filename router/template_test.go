package router

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/parser"
)

// bindMarkers gives the markers (in text order) their values.
func bindMarkers(stmt ast.StmtNode, vals []any) {
	var markers []*test_driver.ParamMarkerExpr
	stmt.Accept(visitFunc(func(n ast.Node) bool {
		if pm, ok := n.(*test_driver.ParamMarkerExpr); ok {
			markers = append(markers, pm)
		}
		return true
	}))
	sort.Slice(markers, func(i, j int) bool { return markers[i].Offset < markers[j].Offset })
	for i, pm := range markers {
		if i < len(vals) {
			pm.Datum.SetValue(vals[i])
		}
	}
}

// templatePlan plans sql through a template compiled from another
// statement of the same shape (compileFrom); "" when no template.
func templatePlan(t *testing.T, compileFrom, sql string) (string, bool) {
	p, ok := planFromTemplate(t, compileFrom, sql)
	if !ok {
		return "", false
	}
	return strings.TrimRight(p.Explain(), "\n"), true
}

// planFromTemplate is templatePlan's plan.
func planFromTemplate(t *testing.T, compileFrom, sql string) (*Plan, bool) {
	key, lits, ok := parser.Template(compileFrom, nil, nil)
	if !ok {
		return nil, false
	}
	var vals []any
	for _, l := range lits {
		vals = append(vals, parser.LiteralValue(compileFrom[l.Start:l.End]))
	}
	var tpl *Template
	var spanned *SpanError
	var bounds []any
	for try := 0; try < 2; try++ {
		var err error
		tpl, err = compileWith(t, string(key), vals)
		var span *SpanError
		if errors.As(err, &span) && try == 0 {
			// As the session does: both bounds the lower one, and the
			// template learns the span.
			spanned, bounds = span, []any{vals[span.Lower], vals[span.Upper]}
			vals[span.Upper] = vals[span.Lower]
			continue
		}
		if err != nil || tpl == nil {
			return nil, false
		}
		break
	}
	if tpl == nil {
		return nil, false
	}
	if spanned != nil {
		tpl.LearnSpan(bounds, spanned)
	}
	key2, lits2, ok := parser.Template(sql, nil, nil)
	if !ok || string(key2) != string(key) {
		t.Fatalf("%q and %q do not share a template", compileFrom, sql)
	}
	var texts []string
	for _, l := range lits2 {
		texts = append(texts, sql[l.Start:l.End])
	}
	var keys []any
	for _, i := range tpl.Params() {
		keys = append(keys, parser.LiteralValue(texts[i]))
	}
	var p Plan
	var r Route
	if _, ok := tpl.PlanInto(&p, &r, nil, texts, keys); ok {
		return &p, true
	}
	// A span of several shards: learnt from this execution, as the
	// session does.
	if tpl.SpanInto(&p, texts, keys) {
		return &p, true
	}
	if !tpl.NewSpan(keys) {
		return nil, false
	}
	var all []any
	for _, tx := range texts {
		all = append(all, parser.LiteralValue(tx))
	}
	_, err := compileWith(t, string(key), all)
	var span *SpanError
	errors.As(err, &span)
	tpl.LearnSpan(keys, span)
	return &p, tpl.SpanInto(&p, texts, keys)
}

// compileWith compiles the template text with its markers bound to vals.
func compileWith(t *testing.T, text string, vals []any) (*Template, error) {
	stmts, err := parser.Parse(text)
	if err != nil || len(stmts) != 1 {
		return nil, errors.New("not one statement")
	}
	bindMarkers(stmts[0], vals)
	tpl, _, err := Compile(stmts[0], testEnv(t))
	return tpl, err
}

// TestTemplatesMatchPlans: for every router case a template can serve,
// the template's plan equals the planner's, for the case's own values and
// for other values of the same shape.
func TestTemplatesMatchPlans(t *testing.T) {
	served, variants := 0, 0
	for _, c := range readCases(t) {
		if _, ok := templatePlan(t, c.sql, c.sql); ok {
			served++
			got, _ := templatePlan(t, c.sql, c.sql)
			if want := planText(testEnv(t), c.sql); got != want {
				t.Errorf("%s\n--- template\n%s--- planner\n%s", c.sql, got, want)
			}
		}
		// Other values: one integer literal at a time plus 1, 2, 3 (so a
		// template that routes by the wrong literal shows).
		_, lits, ok := parser.Template(c.sql, nil, nil)
		if !ok {
			continue
		}
		for j := range lits {
			for d := 1; d <= 3; d++ {
				other, last := "", 0
				for i, l := range lits {
					text := c.sql[l.Start:l.End]
					if n, err := strconv.Atoi(text); err == nil && i == j {
						text = strconv.Itoa(n + d)
					}
					other += c.sql[last:l.Start] + text
					last = l.End
				}
				other += c.sql[last:]
				got, ok := templatePlan(t, c.sql, other)
				if !ok {
					continue
				}
				variants++
				if want := planText(testEnv(t), other); got != want {
					t.Errorf("template of %s used for %s\n--- template\n%s--- planner\n%s", c.sql, other, got, want)
				}
			}
		}
	}
	t.Logf("%d router cases served by a template; %d other-value variants checked", served, variants)
	if served < 20 {
		t.Errorf("only %d cases served by a template", served)
	}
}

// TestTemplatesPlacedByValues: which statements the values alone place,
// so that a template may serve them with other values, and which not.
func TestTemplatesPlacedByValues(t *testing.T) {
	cases := []struct {
		from, sql string
		served    bool // the template serves sql (then it must plan as the planner does)
	}{
		// One BETWEEN on the sharding column, its bounds in one shard.
		{"SELECT * FROM t_range WHERE id BETWEEN 10 AND 20", "SELECT * FROM t_range WHERE id BETWEEN 150 AND 160", true},
		{"SELECT c FROM t_range WHERE id BETWEEN 10 AND 20 ORDER BY c LIMIT 5", "SELECT c FROM t_range WHERE id BETWEEN 210 AND 260 ORDER BY c LIMIT 7", true},
		{"SELECT * FROM orders WHERE user_id BETWEEN 5 AND 5", "SELECT * FROM orders WHERE user_id BETWEEN 6 AND 6", true},
		// Compiled from bounds in two shards (again with both the lower).
		{"SELECT * FROM t_range WHERE id BETWEEN 90 AND 110", "SELECT * FROM t_range WHERE id BETWEEN 150 AND 160", true},
		// ... and the span it was compiled from, or met later, by the plan
		// learnt for it.
		{"SELECT * FROM t_range WHERE id BETWEEN 90 AND 110", "SELECT * FROM t_range WHERE id BETWEEN 90 AND 110", true},
		{"SELECT * FROM t_range WHERE id BETWEEN 90 AND 110", "SELECT * FROM t_range WHERE id BETWEEN 50 AND 150", true},
		{"SELECT * FROM t_range WHERE id BETWEEN 90 AND 110", "SELECT * FROM t_range WHERE id BETWEEN 150 AND 250", true},
		{"SELECT * FROM t_range WHERE id BETWEEN 90 AND 110", "SELECT * FROM t_range WHERE id BETWEEN 50 AND 250", true},
		{"SELECT SUM(k) FROM t_range WHERE id BETWEEN 10 AND 20", "SELECT SUM(k) FROM t_range WHERE id BETWEEN 90 AND 110", true},
		{"SELECT DISTINCT c FROM t_range WHERE id BETWEEN 10 AND 20 ORDER BY c", "SELECT DISTINCT c FROM t_range WHERE id BETWEEN 90 AND 250 ORDER BY c", true},
		// A range over every shard of mod: a scatter template, serving
		// ranges over every shard.
		{"SELECT SUM(k) FROM orders WHERE user_id BETWEEN 1 AND 100", "SELECT SUM(k) FROM orders WHERE user_id BETWEEN 201 AND 300", true},
		{"SELECT SUM(k) FROM orders WHERE user_id BETWEEN 1 AND 100", "SELECT SUM(k) FROM orders WHERE user_id BETWEEN 7 AND 7", false},
		{"SELECT SUM(k) FROM orders WHERE user_id BETWEEN 1 AND 100", "SELECT SUM(k) FROM orders WHERE user_id BETWEEN 7 AND 8", false},
		{"SELECT AVG(k), MAX(c) FROM orders WHERE user_id BETWEEN 1 AND 100", "SELECT AVG(k), MAX(c) FROM orders WHERE user_id BETWEEN 50 AND 150", true},
		{"SELECT DISTINCT c FROM orders WHERE user_id BETWEEN 1 AND 100 ORDER BY c", "SELECT DISTINCT c FROM orders WHERE user_id BETWEEN 5 AND 200 ORDER BY c", true},
		{"SELECT c FROM orders WHERE user_id BETWEEN 1 AND 100 ORDER BY c", "SELECT c FROM orders WHERE user_id BETWEEN 5 AND 200 ORDER BY c", true},
		{"SELECT k, COUNT(*) FROM orders WHERE c = 'a' GROUP BY k ORDER BY k", "SELECT k, COUNT(*) FROM orders WHERE c = 'b' GROUP BY k ORDER BY k", true},
		// Markers outside the WHERE clause may shape the merge: no scatter template.
		{"SELECT k, COUNT(*) FROM orders GROUP BY k HAVING COUNT(*) > 1", "SELECT k, COUNT(*) FROM orders GROUP BY k HAVING COUNT(*) > 2", false},
		{"SELECT k + 1 FROM orders WHERE c = 'a'", "SELECT k + 2 FROM orders WHERE c = 'a'", false},
		{"SELECT c FROM orders WHERE k IN (SELECT k FROM orders WHERE c = 'a')", "SELECT c FROM orders WHERE k IN (SELECT k FROM orders WHERE c = 'b')", false},
		// -5 places a statement, its template's -? cannot.
		{"SELECT * FROM orders WHERE user_id = -3", "SELECT * FROM orders WHERE user_id = -6", false},
		{"SELECT c FROM t_range WHERE k = 5 AND id BETWEEN 90 AND 110", "SELECT c FROM t_range WHERE k = 6 AND id BETWEEN 210 AND 220", true},
		// (The planner takes no marker for a LIMIT across shards: no template.)
		{"SELECT c FROM t_range WHERE id BETWEEN 90 AND 110 LIMIT 3", "SELECT c FROM t_range WHERE id BETWEEN 210 AND 220 LIMIT 3", false},
		// An empty range: planned each time.
		{"SELECT * FROM t_range WHERE id BETWEEN 10 AND 20", "SELECT * FROM t_range WHERE id BETWEEN 20 AND 10", false},
		// (mod names the shards of a short range: a span learnt.)
		{"SELECT * FROM orders WHERE user_id BETWEEN 5 AND 5", "SELECT * FROM orders WHERE user_id BETWEEN 5 AND 6", true},
		// A constant places the statement too: no template at all.
		{"SELECT * FROM orders WHERE user_id = 4 OR user_id IS NULL", "SELECT * FROM orders WHERE user_id = 8 OR user_id IS NULL", false},
		{"SELECT * FROM t_range WHERE id BETWEEN 10 AND 20 OR id IS NULL", "SELECT * FROM t_range WHERE id BETWEEN 11 AND 20 OR id IS NULL", false},
		{`SELECT * FROM orders WHERE user_id = 4 OR user_id = "8"`, `SELECT * FROM orders WHERE user_id = 8 OR user_id = "8"`, false},
		// A BETWEEN and another condition on the column: planned each time.
		{"SELECT * FROM t_range WHERE id BETWEEN 10 AND 20 AND id = 15", "SELECT * FROM t_range WHERE id BETWEEN 10 AND 20 AND id = 150", false},
		{"SELECT * FROM t_range WHERE id >= 10 AND id <= 20", "SELECT * FROM t_range WHERE id >= 10 AND id <= 150", false},
	}
	for _, c := range cases {
		got, ok := templatePlan(t, c.from, c.sql)
		if ok != c.served {
			t.Errorf("template of %s served %s: %v, want %v\n%s", c.from, c.sql, ok, c.served, got)
			continue
		}
		if want := planText(testEnv(t), c.sql); ok && got != want {
			t.Errorf("template of %s used for %s\n--- template\n%s--- planner\n%s", c.from, c.sql, got, want)
		}
	}
}

// TestTemplateUnions: a scatter template runs each node's shards as one
// UNION ALL, sorted by position as the merge reads it, where the
// statement may be a union's part and the positions are known.
func TestTemplateUnions(t *testing.T) {
	cases := []struct {
		sql   string
		union string // the first route's; "" for none
	}{
		{"SELECT c FROM orders WHERE user_id BETWEEN 1 AND 100",
			"(SELECT `c` FROM `orders_0` WHERE `user_id` BETWEEN 1 AND 100) UNION ALL (SELECT `c` FROM `orders_2` WHERE `user_id` BETWEEN 1 AND 100)"},
		{"SELECT SUM(k) FROM orders WHERE user_id BETWEEN 1 AND 100",
			"(SELECT SUM(`k`) AS `SUM(k)` FROM `orders_0` WHERE `user_id` BETWEEN 1 AND 100) UNION ALL (SELECT SUM(`k`) AS `SUM(k)` FROM `orders_2` WHERE `user_id` BETWEEN 1 AND 100)"},
		{"SELECT id, c FROM orders WHERE user_id BETWEEN 1 AND 100 ORDER BY c DESC",
			"(SELECT `id`,`c`,CONCAT(COLLATION(`c`), ':', WEIGHT_STRING(`c`)) AS `__sg_0` FROM `orders_0` WHERE `user_id` BETWEEN 1 AND 100 ORDER BY `c` DESC) UNION ALL (SELECT `id`,`c`,CONCAT(COLLATION(`c`), ':', WEIGHT_STRING(`c`)) AS `__sg_0` FROM `orders_2` WHERE `user_id` BETWEEN 1 AND 100 ORDER BY `c` DESC) ORDER BY 2 DESC"},
		// A helper sorts: its position counts from the end of the list.
		{"SELECT id FROM orders WHERE user_id BETWEEN 1 AND 100 ORDER BY LENGTH(c) DESC, id",
			"(SELECT `id`,LENGTH(`c`) AS `__sg_0`,CONCAT(COLLATION(LENGTH(`c`)), ':', WEIGHT_STRING(LENGTH(`c`))) AS `__sg_1`,CONCAT(COLLATION(`id`), ':', WEIGHT_STRING(`id`)) AS `__sg_2` FROM `orders_0` WHERE `user_id` BETWEEN 1 AND 100 ORDER BY LENGTH(`c`) DESC,`id`) UNION ALL (SELECT `id`,LENGTH(`c`) AS `__sg_0`,CONCAT(COLLATION(LENGTH(`c`)), ':', WEIGHT_STRING(LENGTH(`c`))) AS `__sg_1`,CONCAT(COLLATION(`id`), ':', WEIGHT_STRING(`id`)) AS `__sg_2` FROM `orders_2` WHERE `user_id` BETWEEN 1 AND 100 ORDER BY LENGTH(`c`) DESC,`id`) ORDER BY 2 DESC,1"},
		{"SELECT * FROM orders WHERE user_id BETWEEN 1 AND 100", "(SELECT * FROM `orders_0` WHERE `user_id` BETWEEN 1 AND 100) UNION ALL (SELECT * FROM `orders_2` WHERE `user_id` BETWEEN 1 AND 100)"},
		// After a *, a helper's position is not known before the rows come.
		{"SELECT * FROM orders WHERE user_id BETWEEN 1 AND 100 ORDER BY LENGTH(c)", ""},
		// A locking read is refused as a union's part.
		{"SELECT c FROM orders WHERE user_id BETWEEN 1 AND 100 FOR UPDATE", ""},
		{"SELECT c FROM orders WHERE user_id BETWEEN 1 AND 100 LOCK IN SHARE MODE", ""},
	}
	for _, c := range cases {
		p, ok := planFromTemplate(t, c.sql, c.sql)
		if !ok {
			t.Errorf("%s: no template", c.sql)
			continue
		}
		routes := AppendRoutes(nil, p.Root)
		if len(routes) == 0 || len(routes[0].SQL) < 2 {
			t.Errorf("%s: expected a node of several shards:\n%s", c.sql, p.Explain())
			continue
		}
		if got := routes[0].Union; got != c.union {
			t.Errorf("%s:\n  union %s\n  want  %s", c.sql, got, c.union)
		}
		if (routes[0].Columns != nil) != (c.union != "") {
			t.Errorf("%s: union %q with columns %v", c.sql, routes[0].Union, routes[0].Columns)
		}
	}
}

// A value with no shard compiles no template, and says so (ErrUnplaced):
// the next execution's values may make one.
func TestTemplateUnplacedValue(t *testing.T) {
	for _, c := range []struct {
		sql string
		val any
	}{
		{"SELECT * FROM orders WHERE user_id = ?", "7abc"},
		{"SELECT * FROM t_hash WHERE name = ?", "Straße"},
	} {
		stmts, err := parser.Parse(c.sql)
		if err != nil {
			t.Fatal(err)
		}
		bindMarkers(stmts[0], []any{c.val})
		if tpl, plan, err := Compile(stmts[0], testEnv(t)); tpl != nil || !errors.Is(err, ErrUnplaced) || plan == nil {
			t.Errorf("%s with %q: %v, %v; want no template, ErrUnplaced and a plan", c.sql, c.val, tpl, err)
		}
	}
	if _, ok := templatePlan(t, "SELECT * FROM orders WHERE user_id = 7", "SELECT * FROM orders WHERE user_id = 9"); !ok {
		t.Error("no template for a placeable value")
	}
}

// TestTemplateLearnsSpans: a one-shard BETWEEN template learns a span of
// several shards once, as a plan or as "plan it each time", and other
// spans apart.
func TestTemplateLearnsSpans(t *testing.T) {
	text := "SELECT * FROM t_range WHERE id BETWEEN ? AND ?"
	tpl, err := compileWith(t, text, []any{int64(10), int64(20)})
	if err != nil || tpl == nil || !tpl.Single() {
		t.Fatalf("no one-shard template: %v", err)
	}
	var p Plan
	lits := []string{"90", "110"}
	keys := []any{int64(90), int64(110)}
	if tpl.SpanInto(&p, lits, keys) || !tpl.NewSpan(keys) {
		t.Fatal("a span not met yet is served or not learnable")
	}
	if tpl.NewSpan([]any{int64(10), int64(20)}) || tpl.NewSpan([]any{int64(20), int64(10)}) {
		t.Error("one shard, or none, taken for a span")
	}
	tpl.LearnSpan(keys, nil) // no plan serves it: planned each time
	if tpl.SpanInto(&p, lits, keys) || tpl.NewSpan([]any{int64(50), int64(150)}) {
		t.Error("a span learnt without a plan is served, or learnt again")
	}
	// Another span, from its SpanError.
	keys2 := []any{int64(150), int64(250)}
	_, err = compileWith(t, text, keys2)
	var span *SpanError
	if !errors.As(err, &span) || !tpl.NewSpan(keys2) {
		t.Fatalf("150..250: %v", err)
	}
	tpl.LearnSpan(keys2, span)
	if !tpl.SpanInto(&p, []string{"160", "240"}, []any{int64(160), int64(240)}) {
		t.Fatal("the span learnt is not served")
	}
	if want := planText(testEnv(t), "SELECT * FROM t_range WHERE id BETWEEN 160 AND 240"); strings.TrimRight(p.Explain(), "\n") != want {
		t.Errorf("--- span plan\n%s--- planner\n%s", p.Explain(), want)
	}
	// A SpanError of another span is not taken for this one.
	keys3 := []any{int64(50), int64(250)}
	tpl.LearnSpan(keys3, span)
	if tpl.SpanInto(&p, []string{"50", "250"}, keys3) {
		t.Error("a span served by another span's plan")
	}
}
