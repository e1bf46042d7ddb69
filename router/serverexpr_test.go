package router

import (
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/router/merge"
)

// A string argument goes back to its own character set and collation,
// from the rows' character set; where the rows may have lost characters
// it is refused.
func TestServerArgLiteral(t *testing.T) {
	text := merge.Field{Name: "MAX(l)", Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 45}
	num := merge.Field{Name: "COUNT(*)", Type: mysql.MYSQL_TYPE_LONGLONG, Charset: 63}
	for _, c := range []struct {
		f                  merge.Field
		v                  string
		results, collation string
		defaultColl        bool
		want               string // "" refused
	}{
		{text, "zé", "utf8mb4", "latin1_swedish_ci", true, "CONVERT(_utf8mb4 X'7ac3a9' USING latin1)"},
		{text, "zé", "utf8mb4", "utf8mb4_bin", false, "CONVERT(_utf8mb4 X'7ac3a9' USING utf8mb4) COLLATE utf8mb4_bin"},
		{text, "zé", "utf8mb3", "latin1_bin", false, "CONVERT(_utf8mb3 X'7ac3a9' USING latin1) COLLATE latin1_bin"},
		{text, "a?", "utf8mb3", "utf8mb4_general_ci", true, ""}, // '?' may be a lost 😀
		{text, "ab", "utf8mb3", "utf8mb4_general_ci", true, "CONVERT(_utf8mb3 X'6162' USING utf8mb4)"},
		{text, "z\xe9", "latin1", "latin1_swedish_ci", true, "CONVERT(_latin1 X'7ae9' USING latin1)"},
		{text, "z\xe9", "binary", "latin1_swedish_ci", true, "CONVERT(_latin1 X'7ae9' USING latin1)"},
		{text, "z\xe9", "latin1", "utf8mb4_general_ci", true, ""}, // é may have been ß
		{text, "ss", "latin1", "utf8mb4_unicode_ci", false, "CONVERT('ss' USING utf8mb4) COLLATE utf8mb4_unicode_ci"},
		{text, "ab", "", "utf8mb4_x`", true, ""},
		{num, "42", "utf8mb4", "binary", true, "42"},
	} {
		got, err := ServerArgLiteral(&c.f, []byte(c.v), false, 0, c.results, c.collation, c.defaultColl)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("%q %s %s: %q, want refused", c.v, c.results, c.collation, got)
		case c.want != "" && (err != nil || got != c.want):
			t.Errorf("%q %s %s: %q (%v), want %q", c.v, c.results, c.collation, got, err, c.want)
		case err != nil && !strings.Contains(err.Error(), c.f.Name):
			t.Errorf("%q: the refusal %q does not name %s", c.v, err, c.f.Name)
		}
	}
	if got, err := ServerArgLiteral(&text, nil, true, 0, "utf8mb4", "", false); got != "NULL" || err != nil {
		t.Errorf("NULL: %q %v", got, err)
	}
}

// A named collation (EXPLICIT) is refused where it would answer otherwise
// than the column's IMPLICIT one.
func TestServerExprDerivation(t *testing.T) {
	for _, c := range []struct {
		coercibility bool
		colls        []string
		named        []bool
		ok           bool
	}{
		{false, []string{"utf8mb4_bin"}, []bool{true}, true},
		{true, []string{"utf8mb4_bin"}, []bool{true}, false},
		{true, []string{"latin1_swedish_ci"}, []bool{false}, true},
		{false, []string{"utf8mb4_bin", "latin1_swedish_ci"}, []bool{true, false}, true}, // latin1 converts to utf8mb4
		{false, []string{"utf8mb4_bin", "utf8mb4_general_ci"}, []bool{true, false}, false},
		{false, []string{"latin1_bin", "utf8mb4_general_ci"}, []bool{true, false}, false},
		{false, []string{"utf8mb4_bin", "utf8mb4_bin"}, []bool{true, true}, true},
	} {
		s := &ServerExpr{Coercibility: c.coercibility}
		if err := s.CheckDerivation(c.colls, c.named); (err == nil) != c.ok {
			t.Errorf("%v %v coercibility %v: %v, want ok %v", c.colls, c.named, c.coercibility, err, c.ok)
		}
	}
}
