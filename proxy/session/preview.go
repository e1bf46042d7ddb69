package session

import (
	"strings"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
)

// PREVIEW <statement> shows what the router would do, without running it
// (ShardingSphere's name for it): one row per line of the plan tree, with
// the data node and physical SQL on the lines that send SQL.

func isPreview(sql string) bool {
	l := parser.NewLexer(sql)
	t := l.Next()
	return t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), "PREVIEW")
}

func (s *Session) preview(sql string) error {
	l := parser.NewLexer(sql)
	l.Next()
	rest := strings.TrimSpace(sql[l.Pos():])
	if rest == "" {
		return s.writeErr(syntaxError(sql))
	}
	snap := s.env.Snap.Load()
	var plans []*router.Plan
	if m, ok := parser.ParseMaintenance(rest, s.mode()); ok && s.sharded(snap) {
		plan, err := router.PlanMaintenance(m, s.routerEnv(snap))
		if err != nil {
			return s.handleExecErr(err)
		}
		plans = append(plans, plan)
	} else {
		stmts, err := parser.ParseMode(rest, s.mode())
		if err != nil {
			return s.writeErr(parseError(err, nil))
		}
		for _, st := range stmts {
			var plan *router.Plan
			if s.sharded(snap) {
				plan, err = router.Build(st, s.routerEnv(snap))
				if err != nil {
					return s.handleExecErr(err)
				}
			} else {
				rt, e := s.target(snap)
				if e != nil {
					return s.writeErr(e)
				}
				plan = &router.Plan{Root: &router.Route{Node: rt.node.Name, SQL: []string{st.Text()}}}
			}
			plans = append(plans, plan)
		}
	}
	var rows [][]any
	for _, plan := range plans {
		node := ""
		for _, line := range strings.Split(strings.TrimRight(plan.Explain(), "\n"), "\n") {
			trimmed := strings.TrimLeft(line, " ")
			if strings.HasPrefix(trimmed, "Route ") {
				node = strings.Fields(trimmed)[1]
				rows = append(rows, []any{line, node, nil})
				continue
			}
			if node != "" && len(line)-len(trimmed) > 0 && !isPlanWord(trimmed) {
				rows = append(rows, []any{line, node, trimmed})
				continue
			}
			node = ""
			rows = append(rows, []any{line, nil, nil})
		}
	}
	cols := []wire.Column{exec.TextColumn("plan"), exec.TextColumn("data_node"), exec.TextColumn("actual_sql")}
	exec.WriteResult(&s.cli, cols, rows, s.ClientStatus())
	return s.flush()
}

func isPlanWord(line string) bool {
	for _, w := range []string{"Route ", "Scatter", "Broadcast", "MergeSort", "Limit", "Aggregate", "Distinct", "Filter", "MemorySort", "Project", "Concat", "ChildInsert", "Maintenance"} {
		if strings.HasPrefix(line, w) {
			return true
		}
	}
	return false
}
