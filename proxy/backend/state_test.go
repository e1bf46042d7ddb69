package backend

import "testing"

func TestSetStatement(t *testing.T) {
	base := InitialState()
	cases := []struct {
		name     string
		from, to *State
		want     string
	}{
		{"same", base, base, ""},
		{"equal copies", base, InitialState(), ""},
		{"new var", base, base.With(false, Var{"sql_mode", "ANSI_QUOTES"}),
			"SET @@SESSION.sql_mode = 'ANSI_QUOTES'"},
		{"back to default", base.With(false, Var{"time_zone", "+01:00"}), base,
			"SET @@SESSION.time_zone = DEFAULT"},
		{"numbers bare", base, base.With(false, Var{"wait_timeout", "100"}),
			"SET @@SESSION.wait_timeout = 100"},
		{"charset first", base.With(false, Var{"autocommit", "OFF"}), CharsetState("latin1", "latin1_swedish_ci"),
			"SET @@SESSION.character_set_client = 'latin1', @@SESSION.character_set_results = 'latin1', @@SESSION.character_set_connection = 'latin1', @@SESSION.collation_connection = 'latin1_swedish_ci', @@SESSION.autocommit = DEFAULT"},
		{"results NULL", base, base.With(false, Var{"character_set_results", ""}),
			"SET @@SESSION.character_set_results = NULL"},
		{"user vars", base.With(true, Var{"old", "1"}), base.With(true, Var{"x", "'a'"}),
			"SET @`old` = NULL, @`x` = 'a'"},
		{"without", base.With(false, Var{"timestamp", "1700000000.5"}), base.With(false, Var{"timestamp", "1700000000.5"}).Without("timestamp"),
			"SET @@SESSION.timestamp = DEFAULT"},
		{"quotes", base, base.With(false, Var{"sql_mode", "it's"}),
			"SET @@SESSION.sql_mode = X'69742773'"},
	}
	for _, c := range cases {
		if got := SetStatement(c.from, c.to); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestStateWithIsCopyOnWrite(t *testing.T) {
	a := InitialState()
	b := a.With(false, Var{"sql_mode", "x"})
	if _, ok := a.Var("sql_mode"); ok {
		t.Fatal("With changed the original")
	}
	if v, _ := b.Var("sql_mode"); v != "x" {
		t.Fatal("With lost the value")
	}
	if a.With(false, Var{"character_set_client", "utf8mb4"}) != a {
		t.Fatal("an unchanged With must return the same state")
	}
	if !a.Equal(InitialState()) || a.Equal(b) {
		t.Fatal("Equal")
	}
}

func TestStateWithout(t *testing.T) {
	a := InitialState().With(false, Var{"sql_mode", "x"}, Var{"timestamp", "5"})
	b := a.Without("timestamp")
	if _, ok := b.Var("timestamp"); ok {
		t.Fatal("Without kept the variable")
	}
	if _, ok := a.Var("timestamp"); !ok {
		t.Fatal("Without changed the original")
	}
	if v, _ := b.Var("sql_mode"); v != "x" || b.Without("timestamp") != b {
		t.Fatal("Without lost another variable, or copied for nothing")
	}
}
