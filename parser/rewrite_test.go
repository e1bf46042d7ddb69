package parser

import "testing"

func TestRewriteSession(t *testing.T) {
	v := &SessionValues{ConnectionID: 42, Database: "app", Schemas: map[string]string{"app": "app_0"}}
	cases := []struct{ in, want string }{
		{"SELECT DATABASE()", "SELECT 'app' AS `DATABASE()`"},
		{"select connection_id() as id", "SELECT 42 AS `id`"},
		{"SELECT * FROM app.t JOIN other.u", "SELECT * FROM `app_0`.`t` JOIN `other`.`u`"},
		{"select schema(), 1", "SELECT 'app' AS `schema()`,1"},
	}
	for _, c := range cases {
		got, err := RewriteSession(c.in, v)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	got, err := RewriteSession("SELECT DATABASE()", &SessionValues{})
	if err != nil || got != "SELECT NULL AS `DATABASE()`" {
		t.Errorf("no database: %q %v", got, err)
	}
}
