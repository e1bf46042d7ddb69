package conf

import (
	"strings"
	"testing"
	"time"
)

func TestAdminKeys(t *testing.T) {
	text := `slow_query: 250ms
users:
  - {name: u, schemas: [s], guard: true, deny: [{kind: delete}, {fingerprint: "select * from t where id = ?"}]}
data_hosts: [{name: h, primary: "127.0.0.1:1"}]
data_nodes: [{name: n, host: h, database: d}, {name: m, host: h, database: e}]
schemas:
  - name: s
    default_node: n
    tables:
      t: {column: id, algorithm: mod, shards: 2, nodes: [n, m], no_scatter: true}
`
	c, err := Parse("a.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if c.SlowThreshold() != 250*time.Millisecond || !c.Users[0].Guard || len(c.Users[0].Deny) != 2 || !c.Schemas[0].Table("t").NoScatter {
		t.Errorf("%+v", c)
	}
	out, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse("a.yaml", out)
	if err != nil || !c2.Schemas[0].Table("t").NoScatter || c2.Users[0].Deny[1].Fingerprint != "select * from t where id = ?" || c2.SlowQuery != c.SlowQuery {
		t.Errorf("round trip: %v\n%s", err, out)
	}
	if d := (&Config{}).SlowThreshold(); d != DefaultSlowQuery {
		t.Errorf("default slow_query %v", d)
	}

	for _, tc := range []struct{ replace, with, want string }{
		{"slow_query: 250ms", "slow_query: -1s", "a.yaml:1: slow_query: must be >= 0"},
		{"{kind: delete}", "{kind: remove}", `a.yaml:3: users[0].deny[0].kind: unknown statement kind "remove"`},
		{"{kind: delete}", "{}", "a.yaml:3: users[0].deny[0]: a deny rule needs kind or fingerprint"},
		{"{kind: delete}", "{kind: delete, fingerprint: x}", "either kind or fingerprint"},
		{"t: {column: id, algorithm: mod, shards: 2, nodes: [n, m], no_scatter: true}", "t: {node: m, no_scatter: true}",
			"a.yaml:10: schemas[0].tables.t.no_scatter: no_scatter is for sharded and child tables"},
	} {
		_, err := Parse("a.yaml", []byte(strings.Replace(text, tc.replace, tc.with, 1)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.with, err, tc.want)
		}
	}
}
