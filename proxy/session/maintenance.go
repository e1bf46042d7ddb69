package session

import (
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/router"
)

// maintenance answers ANALYZE, CHECK, CHECKSUM, OPTIMIZE or REPAIR TABLE
// in a sharded schema, which TiDB's parser reads otherwise or not at
// all, as one server would (router.PlanMaintenance).
func (s *Session) maintenance(m parser.Maintenance, sum *parser.Summary, snap *snapshot.Snapshot) error {
	plan, err := router.PlanMaintenance(m, s.routerEnv(snap))
	if err != nil {
		return s.handleExecErr(err)
	}
	out, err := s.runPlan(plan, nil, sum, 0)
	if err != nil {
		return s.handleExecErr(err)
	}
	if out.Err != nil {
		s.cli.MoreResults = false
		return s.flush()
	}
	if mt := plan.Root.(*router.Maintenance); mt.Checksum {
		// One server warns of each table it does not have.
		for _, t := range mt.Tables {
			if len(t.Physical) == 0 {
				s.diag.add("Error", mysql.ER_NO_SUCH_TABLE, exec.MissingTable(t.Name))
			}
		}
	}
	return s.flush()
}
