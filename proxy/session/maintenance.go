package session

import (
	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/router"
)

// isMaintenance reports a table maintenance statement.
func isMaintenance(sql string, mode parser.Mode) bool {
	_, ok := parser.ParseMaintenance(sql, mode)
	return ok
}

// maintenance answers ANALYZE, CHECK, CHECKSUM, OPTIMIZE or REPAIR TABLE
// in a sharded schema, which TiDB's parser reads otherwise or not at
// all, as one server would (router.PlanMaintenance).
func (s *Session) maintenance(m parser.Maintenance, sum *parser.Summary, snap *snapshot.Snapshot) error {
	plan, err := router.PlanMaintenance(m, s.routerEnv(snap))
	if err != nil {
		return s.handleExecErr(err)
	}
	return s.answerPlan(plan, nil, sum, 0)
}
