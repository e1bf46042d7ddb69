package router

import (
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
	key, lits, ok := parser.Template(compileFrom, nil, nil)
	if !ok {
		return "", false
	}
	stmts, err := parser.Parse(string(key))
	if err != nil || len(stmts) != 1 {
		return "", false
	}
	var vals []any
	for _, l := range lits {
		vals = append(vals, parser.LiteralValue(compileFrom[l.Start:l.End]))
	}
	bindMarkers(stmts[0], vals)
	tpl, _, err := Compile(stmts[0], testEnv(t))
	if err != nil || tpl == nil {
		return "", false
	}
	key2, lits2, ok := parser.Template(sql, nil, nil)
	if !ok || string(key2) != string(key) {
		t.Fatalf("%q and %q do not share a template", compileFrom, sql)
	}
	var texts []string
	for _, l := range lits2 {
		texts = append(texts, sql[l.Start:l.End])
	}
	var keyVal any
	if tpl.Param() >= 0 {
		keyVal = parser.LiteralValue(texts[tpl.Param()])
	}
	var p Plan
	var r Route
	if _, ok := tpl.PlanInto(&p, &r, nil, texts, keyVal); !ok {
		return "", false
	}
	return strings.TrimRight(p.Explain(), "\n"), true
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
