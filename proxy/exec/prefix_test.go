package exec

import (
	"testing"
	"time"

	"github.com/shardgate/shardgate/router"
)

// TestPlanPrefix: the client's SET STATEMENT assignments and the plan's
// time go before a plan's statements as one SET STATEMENT.
func TestPlanPrefix(t *testing.T) {
	at := time.Unix(1700000000, 250000000)
	one := &router.Plan{Root: &router.Route{SQL: []string{"SELECT 1"}}}
	for _, c := range []struct {
		name  string
		vars  string
		fixed bool
		plan  *router.Plan
		want  string
	}{
		{"neither", "", false, one, ""},
		{"the plan's time", "", false, &router.Plan{Root: one.Root, At: at}, "SET STATEMENT timestamp = 1700000000.250000 FOR "},
		{"the client's", "max_statement_time = 1", false, one, "SET STATEMENT max_statement_time = 1 FOR "},
		{"both", "a = 1, b = 2", false, &router.Plan{Root: one.Root, At: at}, "SET STATEMENT a = 1, b = 2, timestamp = 1700000000.250000 FOR "},
		{"the session's time", "a = 1", true, &router.Plan{Root: one.Root, At: at}, "SET STATEMENT a = 1 FOR "},
	} {
		cli := &Client{StmtVars: c.vars, FixedTime: c.fixed}
		if got := planPrefix(cli, c.plan); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
