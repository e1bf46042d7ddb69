//go:build integration

package integration

// Text sharding keys: MariaDB's collations call 'José', 'JOSE' and 'jose '
// equal, so a lookup by one must find rows stored by the others, which the
// proxy can only do if they were placed on one shard. TestTextKeys fills
// tables sharded by a string column under four collations (and a binary
// one) with the same rows as the oracle and looks every word up, by text
// and prepared, in UTF-8 and latin1. TestTextKeysAgreeWithServer checks the
// fold table against the server's own weights for every character.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/router/merge"
	"github.com/shardgate/shardgate/shardrules"
)

func textKeysConfig() string {
	return `
listen: {{LISTEN}}
users:
  - {name: app, password: app, schemas: [tk]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: ` + dh0Primary + `}
  - {name: dh1, user: sg, password: sg, primary: ` + dh1Primary + `}
data_nodes:
  - {name: k0, host: dh0, database: tk_0}
  - {name: k1, host: dh1, database: tk_1}
schemas:
  - name: tk
    tables:
      kg: {column: code, algorithm: hash, shards: 4, nodes: [k0, k1]}
      ku: {column: code, algorithm: hash, shards: 4, nodes: [k0, k1]}
      ka: {column: code, algorithm: consistent_hash, shards: 4, nodes: [k0, k1]}
      kp: {column: code, algorithm: string_prefix, shards: 4, nodes: [k0, k1], options: {length: 2}}
      kb: {column: code, algorithm: hash, shards: 4, nodes: [k0, k1], options: {collation: binary}}
      kgg: {column: code, algorithm: hash, shards: 4, nodes: [k0, k1], options: {collation: utf8mb4_general_ci}}
      kaa: {column: code, algorithm: slot, shards: 4, nodes: [k0, k1], options: {collation: utf8mb4_uca1400_ai_ci}}
      kd: {column: code, algorithm: hash, shards: 4, nodes: [k0, k1]}
`
}

// The tables and their key column's type. Every word has a shard in kb,
// kgg and kaa (the option collation names the column's); kd's shards are made on
// the data hosts (the proxy refuses the collation in CREATE TABLE), and it
// places only printable ASCII.
var textKeyTables = []struct{ name, typ string }{
	{"kg", "VARCHAR(40) COLLATE utf8mb4_general_ci"},
	{"ku", "VARCHAR(40) COLLATE utf8mb4_unicode_ci"},
	{"ka", "VARCHAR(40) COLLATE utf8mb4_uca1400_ai_ci"},
	{"kp", "VARCHAR(40) COLLATE utf8mb4_unicode_520_ci"},
	{"kb", "VARBINARY(40)"},
	{"kgg", "VARCHAR(40) COLLATE utf8mb4_general_ci"},
	{"kaa", "VARCHAR(40) COLLATE utf8mb4_uca1400_ai_ci"},
	{"kd", "VARCHAR(40) COLLATE utf8mb4_danish_ci"},
}

// textKeyWords are stored and looked up. The ones in noPlace have no key
// text: the proxy refuses them as rows of a text column.
var textKeyWords = []string{
	"José", "jose", "JOSÉ ", "Jose\u00a0", "Zoë", "ZOE", "zoe", "Ａｂｃ", "abc", "ABC  ", "Ø", "o", "O",
	"İstanbul", "istanbul", "中文", "中文 ", "😀", "😁", "\ufffd", "ｶﾀｶﾅ", "カタカナ", "かたかな", "４２", "42", "042",
	"Ålborg", "alborg", "aalborg", "Ⅻ", "xii", "Straße", "strasse", "strase", "Æsir", "aesir", "e\u0301", "é", "a\tb", "ab",
	"Œuvre", "Ĳssel", "Ελλάδα", "ΕΛΛΑΔΑ", "ελλαδα", "Москва", "МОСКВА", "ﬁne", "fine", "ǅemal", "dzemal", "Dženan", "Renée", "RENEE",
}

var noPlace = map[string]bool{"Straße": true, "Ⅻ": true, "ﬁne": true, "Æsir": true, "e\u0301": true, "Œuvre": true, "Ĳssel": true, "ǅemal": true}

func TestTextKeys(t *testing.T) {
	ctx := context.Background()
	p := StartProxy(t, textKeysConfig())
	db := Open(t, DSN("app", "app", p.Addr, "tk"))
	pc := Conn(t, db)
	oracle := Open(t, DSN("sg", "sg", oracleAddr, ""))
	MustExec(t, oracle, "CREATE DATABASE IF NOT EXISTS tk_oracle")
	t.Cleanup(func() { MustExec(t, oracle, "DROP DATABASE IF EXISTS tk_oracle") })
	oc := Conn(t, Open(t, DSN("sg", "sg", oracleAddr, "tk_oracle")))

	// A key column whose collation calls strings equal that the fold keeps
	// apart, or a text column under collation: binary, is refused.
	for _, create := range []string{
		"CREATE TABLE kg (id INT PRIMARY KEY, code VARCHAR(40) COLLATE utf8mb4_danish_ci)",
		"CREATE TABLE kg (id INT PRIMARY KEY, code VARCHAR(40)) DEFAULT CHARSET=latin1",
		"CREATE TABLE kb (id INT PRIMARY KEY, code VARCHAR(40) COLLATE utf8mb4_general_ci)",
	} {
		if _, err := pc.ExecContext(ctx, create); ErrCode(err) != 1235 {
			t.Errorf("%s: %v, want 1235", create, err)
		}
	}
	for _, tb := range textKeyTables {
		create := "CREATE TABLE " + tb.name + " (id INT PRIMARY KEY, code " + tb.typ + " NOT NULL, KEY (code)) DEFAULT CHARSET=utf8mb4"
		MustExec(t, oc, "DROP TABLE IF EXISTS "+tb.name, create)
		if tb.name != "kd" {
			MustExec(t, pc, "DROP TABLE IF EXISTS "+tb.name, create)
		} else {
			// Shard n is kd_n, on tk_0 (dh0) when n is even, else tk_1.
			for n := 0; n < 4; n++ {
				db, host := "tk_0", dh0Primary
				if n%2 == 1 {
					db, host = "tk_1", dh1Primary
				}
				phys := fmt.Sprintf("kd_%d", n)
				MustExec(t, Open(t, DSN("sg", "sg", host, db)), "DROP TABLE IF EXISTS "+phys, strings.Replace(create, "TABLE kd ", "TABLE "+phys+" ", 1))
			}
		}
		everyWord := tb.name == "kb" || tb.name == "kgg" || tb.name == "kaa"
		for i, w := range textKeyWords {
			_, err := pc.ExecContext(ctx, "INSERT INTO "+tb.name+" VALUES (?, ?)", i, w)
			refused := noPlace[w] && !everyWord
			if tb.name == "kd" {
				refused = !isPrintableASCII(w)
			}
			if refused {
				if ErrCode(err) != 1235 || !strings.Contains(err.Error(), "collation") {
					t.Errorf("%s: INSERT %q: %v, want 1235 naming the collation", tb.name, w, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: INSERT %q: %v", tb.name, w, err)
			}
			if _, err := oc.ExecContext(ctx, "INSERT INTO "+tb.name+" VALUES (?, ?)", i, w); err != nil {
				t.Fatalf("oracle %s: INSERT %q: %v", tb.name, w, err)
			}
		}
	}

	compared := 0
	lookup := func(c *sql.Conn, q string, args ...any) (string, error) {
		rows, err := c.QueryContext(ctx, q, args...)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		var ids []int
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				return "", err
			}
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return fmt.Sprint(ids), rows.Err()
	}
	check := func(pc, oc *sql.Conn, label, q string, args ...any) {
		t.Helper()
		want, err := lookup(oc, q, args...)
		if err != nil {
			t.Fatalf("oracle %s: %v", q, err)
		}
		got, err := lookup(pc, q, args...)
		if err != nil {
			t.Errorf("%s %s %q: %v", label, q, args, err)
			return
		}
		if got != want {
			t.Errorf("%s %s %q: proxy %s, oracle %s", label, q, args, got, want)
		}
		compared++
	}
	for _, tb := range textKeyTables {
		for i, w := range textKeyWords {
			lit := "'" + strings.ReplaceAll(w, "'", "''") + "'"
			check(pc, oc, tb.name, "SELECT id FROM "+tb.name+" WHERE code = "+lit)
			check(pc, oc, tb.name+" prepared", "SELECT id FROM "+tb.name+" WHERE code = ?", w)
			next := textKeyWords[(i+7)%len(textKeyWords)]
			check(pc, oc, tb.name+" prepared", "SELECT id FROM "+tb.name+" WHERE code IN (?, ?)", w, next)
		}
	}

	// Ordered across shards: kg's and kgg's strings (utf8mb4_general_ci) by
	// the merge itself, kb's bytes as they are, the others' by the shards'
	// weight strings; the same again for a latin1 client below.
	inOrder := func(c *sql.Conn, q string) ([]string, error) {
		rows, err := c.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, rows.Err()
	}
	checkOrder := func(pc, oc *sql.Conn, label, q string) {
		t.Helper()
		want, err := inOrder(oc, q)
		if err != nil {
			t.Fatalf("oracle %s: %v", q, err)
		}
		got, err := inOrder(pc, q)
		if err != nil {
			t.Errorf("%s %s: %v", label, q, err)
		} else if !slices.Equal(got, want) {
			t.Errorf("%s %s:\nproxy  %q\noracle %q", label, q, got, want)
		}
		compared++
	}
	for _, tb := range textKeyTables {
		checkOrder(pc, oc, tb.name, "SELECT CONCAT(id, ':', code) FROM "+tb.name+" ORDER BY code, id")
		checkOrder(pc, oc, tb.name, "SELECT CONCAT(id, ':', code) FROM "+tb.name+" ORDER BY code DESC, id DESC")
		checkOrder(pc, oc, tb.name+" distinct", "SELECT DISTINCT UPPER(code) FROM "+tb.name+" ORDER BY 1")
	}
	// Which of the strings DISTINCT calls equal it shows is the server's
	// choice: compare the number of distinct strings and each one's place.
	for _, tb := range []string{"kg", "kgg"} {
		q := "SELECT DISTINCT code FROM " + tb + " ORDER BY code"
		want, err := inOrder(oc, q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := inOrder(pc, q)
		if err != nil || len(got) != len(want) {
			t.Errorf("%s: %d strings (%v), the oracle %d", q, len(got), err, len(want))
			continue
		}
		for i := range got {
			var eq int
			if err := oc.QueryRowContext(ctx, "SELECT CONVERT(? USING utf8mb4) COLLATE utf8mb4_general_ci = CONVERT(? USING utf8mb4)", got[i], want[i]).Scan(&eq); err != nil || eq != 1 {
				t.Errorf("%s: row %d is %q, the oracle's %q (%v)", q, i, got[i], want[i], err)
			}
		}
	}

	// A latin1 client: its bytes are the same characters.
	lp := Conn(t, Open(t, DSN("app", "app", p.Addr, "tk", "charset=latin1")))
	lo := Conn(t, Open(t, DSN("sg", "sg", oracleAddr, "tk_oracle", "charset=latin1")))
	latin1 := 0
	for _, w := range textKeyWords {
		b, ok := toLatin1(w)
		if !ok {
			continue
		}
		latin1++
		for _, tb := range textKeyTables[:4] {
			check(lp, lo, tb.name+" latin1", "SELECT id FROM "+tb.name+" WHERE code = '"+b+"'")
			check(lp, lo, tb.name+" latin1 prepared", "SELECT id FROM "+tb.name+" WHERE code = ?", b)
		}
	}
	if latin1 < 20 {
		t.Errorf("only %d words in latin1", latin1)
	}
	for _, tb := range textKeyTables[:2] {
		checkOrder(lp, lo, tb.name+" latin1", "SELECT CONCAT(id, ':', code) FROM "+tb.name+" ORDER BY code, id")
	}
	// A row a latin1 client writes is found by a UTF-8 one.
	b, _ := toLatin1("Renée")
	MustExec(t, lp, "INSERT INTO kg VALUES (1000, '"+b+"')")
	MustExec(t, lo, "INSERT INTO kg VALUES (1000, '"+b+"')")
	check(pc, oc, "after a latin1 INSERT", "SELECT id FROM kg WHERE code = 'RENEE'")
	t.Logf("%d lookups compared with the oracle (%d latin1 words)", compared, latin1)
}

func isPrintableASCII(s string) bool {
	for _, r := range s {
		if r < 0x20 || r >= 0x7F {
			return false
		}
	}
	return true
}

// toLatin1 is s in latin1 bytes, if it has only characters below U+0100.
func toLatin1(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		if r >= 0x100 || r >= 0x80 && r < 0xA0 {
			return "", false
		}
		b.WriteByte(byte(r))
	}
	return b.String(), true
}

// TestTextKeysAgreeWithServer: for each collation the fold tables agree
// with, characters of equal weight must fold to one key character, and
// strings the server calls equal must have the same key text (general:
// the table of the option collation: utf8mb4_general_ci, which folds every
// character).
func TestTextKeysAgreeWithServer(t *testing.T) {
	ctx := context.Background()
	db := Open(t, DSN("sg", "sg", oracleAddr, "mysql"))
	roots := []string{"utf8mb4_general_ci", "utf8mb4_unicode_ci", "utf8mb4_unicode_520_ci", "utf8mb4_uca1400_ai_ci"}
	type check struct{ coll, option string }
	var checks []check
	for _, coll := range append(roots, "utf8mb4_uca1400_as_cs") {
		checks = append(checks, check{coll, ""})
	}
	for _, coll := range roots {
		checks = append(checks, check{coll, coll})
	}
	for _, c := range checks {
		coll := c.coll
		rows, err := db.QueryContext(ctx, `SELECT seq, WEIGHT_STRING(CONVERT(CHAR(seq USING utf32) USING utf8mb4) COLLATE `+coll+`)
			FROM seq_0_to_1114111 WHERE seq NOT BETWEEN 0xD800 AND 0xDFFF`)
		if err != nil {
			t.Fatal(err)
		}
		keyOf := map[string]string{} // weight -> the key of the first foldable character with it
		firstOf := map[string]rune{}
		bad, folded := 0, 0
		for rows.Next() {
			var r rune
			var w []byte
			if err := rows.Scan(&r, &w); err != nil {
				t.Fatal(err)
			}
			k, err := shardrules.TextKey(string(r), c.option)
			if err != nil {
				if c.option != "" {
					t.Fatalf("U+%04X does not fold under the option collation: %s: %v", r, c.option, err)
				}
				continue
			}
			folded++
			if len(w) == 0 {
				if k != "" {
					t.Errorf("%s (option %q): U+%04X is ignored by the collation, yet folds to %q", coll, c.option, r, k)
				}
				continue
			}
			if k == "" || k == " " { // trailing spaces go: a space-like character's key is empty
				k = " "
			}
			if prev, ok := keyOf[string(w)]; !ok {
				keyOf[string(w)], firstOf[string(w)] = k, r
			} else if prev != k && bad < 10 {
				bad++
				t.Errorf("%s (option %q): U+%04X and U+%04X weigh the same, but fold to %q and %q", coll, c.option, firstOf[string(w)], r, prev, k)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if folded < 1_000_000 || c.option != "" && folded != 0x110000-0x800 {
			t.Errorf("%s: only %d characters fold", coll, folded)
		}
	}

	// Strings, compared by the server.
	for _, coll := range []string{"utf8mb4_general_ci", "utf8mb4_unicode_ci", "utf8mb4_unicode_520_ci", "utf8mb4_uca1400_ai_ci"} {
		pairs := 0
		for i, a := range textKeyWords {
			ka, errA := shardrules.TextKey(a, "")
			if errA != nil && !noPlace[a] || errA == nil && noPlace[a] {
				t.Errorf("TextKey(%q): %v; noPlace says %v", a, errA, noPlace[a])
			}
			if errA != nil && !errors.As(errA, new(*shardrules.CollationError)) {
				t.Errorf("TextKey(%q): %v, want a CollationError", a, errA)
			}
			for _, b := range textKeyWords[i+1:] {
				kb, errB := shardrules.TextKey(b, "")
				if errA != nil || errB != nil {
					continue
				}
				var eq int
				if err := db.QueryRowContext(ctx, "SELECT CONVERT(? USING utf8mb4) COLLATE "+coll+" = CONVERT(? USING utf8mb4)", a, b).Scan(&eq); err != nil {
					t.Fatal(err)
				}
				if eq == 1 {
					pairs++
					if ka != kb {
						t.Errorf("%s calls %q and %q equal; their keys are %q and %q", coll, a, b, ka, kb)
					}
				}
			}
		}
		if pairs < 15 {
			t.Errorf("%s: only %d equal pairs among the words", coll, pairs)
		}
	}

	// The same for each collation's own folding, which places every word.
	for _, coll := range roots {
		for i, a := range textKeyWords {
			ka, err := shardrules.TextKey(a, coll)
			if err != nil {
				t.Fatalf("%s TextKey(%q): %v", coll, a, err)
			}
			for _, b := range textKeyWords[i+1:] {
				kb, _ := shardrules.TextKey(b, coll)
				var eq int
				if err := db.QueryRowContext(ctx, "SELECT CONVERT(? USING utf8mb4) COLLATE "+coll+" = CONVERT(? USING utf8mb4)", a, b).Scan(&eq); err != nil {
					t.Fatal(err)
				}
				if eq == 1 && ka != kb {
					t.Errorf("%s calls %q and %q equal; their keys under the option are %q and %q", coll, a, b, ka, kb)
				}
			}
		}
	}
}

// TestMergeCollationAgreesWithServer: the collations the merge orders
// strings by itself (merge.Collation) compare every pair of the words,
// and of words with trailing spaces, tabs and no-break spaces, as the
// server's STRCMP does.
func TestMergeCollationAgreesWithServer(t *testing.T) {
	ctx := context.Background()
	db := Open(t, DSN("sg", "sg", oracleAddr, "mysql"))
	words := append(slices.Clone(textKeyWords), "", " ", "a", "a ", "A  ", "a\t", "a\u00a0", "a\x01", "\t", "ab ", "😀 ", "\U0002A6A5", "z", "Z ")
	var values strings.Builder
	for i, w := range words {
		if i > 0 {
			values.WriteString(", ")
		}
		fmt.Fprintf(&values, "(%d, _utf8mb4 x'%x')", i, w)
	}
	for _, name := range []string{"utf8mb4_general_ci", "utf8mb4_general_nopad_ci", "utf8mb4_bin", "utf8mb4_nopad_bin"} {
		coll := merge.CollationNamed(name)
		if coll == nil {
			t.Fatalf("%s: not implemented", name)
		}
		rows, err := db.QueryContext(ctx, "WITH w (i, s) AS (VALUES "+values.String()+") SELECT a.i, b.i, STRCMP(a.s COLLATE "+name+", b.s COLLATE "+name+") FROM w a, w b")
		if err != nil {
			t.Fatal(err)
		}
		pairs, bad := 0, 0
		for rows.Next() {
			var i, j, want int
			if err := rows.Scan(&i, &j, &want); err != nil {
				t.Fatal(err)
			}
			pairs++
			if got := coll.Compare([]byte(words[i]), []byte(words[j])); got != want && bad < 10 {
				bad++
				t.Errorf("%s: %q against %q: %d, the server says %d", name, words[i], words[j], got, want)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if pairs != len(words)*len(words) {
			t.Errorf("%s: %d pairs compared, want %d", name, pairs, len(words)*len(words))
		}
	}
}
