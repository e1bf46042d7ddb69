package session

import "testing"

// TestSetsTimeDefault: SET timestamp = DEFAULT (or 0) gives the clock
// back; MariaDB reports it as the time of day, which is no fixed time.
func TestSetsTimeDefault(t *testing.T) {
	for sql, want := range map[string]bool{
		"SET timestamp = DEFAULT":                  true,
		"SET @@session.timestamp = 0":              true,
		"SET sql_mode = '', timestamp = DEFAULT":   true,
		"SET timestamp = 1700000000":               false,
		"SET timestamp = UNIX_TIMESTAMP()":         false,
		"SET @timestamp = DEFAULT":                 false, // (a user variable: a syntax error anyway)
		"SET @@global.timestamp = 0":               false,
		"SET sql_mode = DEFAULT":                   false,
		"SET STATEMENT timestamp = 0 FOR SELECT 1": false,
	} {
		if got := setsTimeDefault(sql); got != want {
			t.Errorf("%s: %v, want %v", sql, got, want)
		}
	}
}
