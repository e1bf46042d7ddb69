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
