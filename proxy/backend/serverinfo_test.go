package backend

import "testing"

func TestVersionID(t *testing.T) {
	for v, want := range map[string]int{
		"10.11.14-MariaDB-0+deb12u2-log": 101114,
		"11.4.2-MariaDB":                 110402,
		"8.0.36":                         80036,
		"5.5.5-10.6.1-MariaDB":           100601,
		"":                               101100,
		"garbage":                        101100,
	} {
		if got := (&ServerInfo{Version: v}).VersionID(); got != want {
			t.Errorf("VersionID(%q) = %d, want %d", v, got, want)
		}
	}
	if got := (*ServerInfo)(nil).VersionID(); got != 101100 {
		t.Errorf("nil: %d", got)
	}
}

func TestGreetingCollation(t *testing.T) {
	colls := map[uint16]Collation{
		45:   {ID: 45, Charset: "utf8mb4", Name: "utf8mb4_general_ci", Default: true},
		2304: {ID: 2304, Charset: "utf8mb4", Name: "utf8mb4_uca1400_ai_ci"},
		8:    {ID: 8, Charset: "latin1", Name: "latin1_swedish_ci", Default: true},
	}
	for server, want := range map[uint16]uint16{45: 45, 8: 8, 2304: 45, 0: 0} {
		if got := greetingCollation(colls, server); got != want {
			t.Errorf("greetingCollation(%d) = %d, want %d", server, got, want)
		}
	}
}
