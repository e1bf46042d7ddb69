package parser

import "testing"

func TestExpandComments(t *testing.T) {
	cases := []struct{ sql, want string }{
		{"SELECT 1 /*! +1 */", "SELECT 1  +1 "},
		{"SELECT 1 /*!40101 +1*/", "SELECT 1  +1"},
		{"SELECT 1 /*!50700 +1*/", "SELECT 1 "}, // MySQL 5.7's: never on MariaDB
		{"SELECT 1 /*!99999 +1*/", "SELECT 1 "},
		{"SELECT 1 /*!100000 +1*/", "SELECT 1  +1"},
		{"SELECT 1 /*!101200 +1*/", "SELECT 1 "}, // newer than the server
		{"SELECT 1 /*M! +1 */", "SELECT 1  +1 "},
		{"SELECT 1 /*M!50700 +1*/", "SELECT 1  +1"},
		{"SELECT 1 /*M!101100 +1*/", "SELECT 1  +1"},
		{"SELECT 1 /*M!999999 +1*/", "SELECT 1 "},
		{"/*!40101 SET NAMES utf8 */", " SET NAMES utf8 "},
		{"SELECT '/*!1 x*/', \"/*M!1 y*/\", `/*!z*/` /* plain */ /*+ hint */",
			"SELECT '/*!1 x*/', \"/*M!1 y*/\", `/*!z*/` /* plain */ /*+ hint */"},
		{"SELECT 'it\\'s /*!1 x*/' /*!10000 +2*/", "SELECT 'it\\'s /*!1 x*/'  +2"},
		{"SELECT 1 -- /*!1 +1*/\n /*!10000 +2*/", "SELECT 1 -- /*!1 +1*/\n  +2"},
		{"SELECT 1 # /*!1 +1*/", "SELECT 1 # /*!1 +1*/"},
		{"SELECT 1 /*! unclosed", "SELECT 1 /*! unclosed"},
		{"SELECT/*!SQL_NO_CACHE*/id FROM t", "SELECT SQL_NO_CACHE id FROM t"}, // words stay apart
		{"SELECT 1/*!99999 x*/2", "SELECT 1 2"},
		{"SELECT 7, /*!01000 1 + /* 8 + */ 2 + */ 4", "SELECT 7,  1 + /* 8 + */ 2 +  4"}, // a comment inside
		{"SELECT /*!10000 '*/' */ 1", "SELECT  '*/'  1"},
		// A version has 5 or 6 digits; fewer are code, as MariaDB reads them.
		{"SELECT 5 /*!1 +2*/", "SELECT 5 1 +2"},
		{"SELECT 5 /*M!1234 +2*/", "SELECT 5 1234 +2"},
		{"SELECT 1 /*!1234567 +2*/", "SELECT 1 "},
	}
	for _, c := range cases {
		if got := ExpandComments(c.sql, 101100, true); got != c.want {
			t.Errorf("ExpandComments(%q) = %q, want %q", c.sql, got, c.want)
		}
		if c.sql != c.want && !HasExecutableComment(c.sql) {
			t.Errorf("HasExecutableComment(%q) = false", c.sql) // true may also mean "look"
		}
	}
	if HasExecutableComment("SELECT 1 /* plain */ /*+ hint */ FROM t") {
		t.Errorf("HasExecutableComment sees plain comments")
	}
	// Without backslash escapes the quote ends the string.
	if got := ExpandComments(`SELECT 'a\' /*!10000 +2*/`, 101100, false); got != `SELECT 'a\'  +2` {
		t.Errorf("NO_BACKSLASH_ESCAPES: %q", got)
	}
}
