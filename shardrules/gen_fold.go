//go:build ignore

// gen_fold writes fold_table.go: how a sharding key's characters fold so
// that strings MariaDB's collations call equal land on one shard. It reads
// every character's weights from a running MariaDB server (10.10 or later,
// for the UCA 14 collations):
//
//	go run gen_fold.go -dsn 'sg:sg@tcp(127.0.0.1:13310)/mysql' > fold_table.go.new && mv fold_table.go.new fold_table.go
//
// A character folds to a key character chosen so that, under each of the
// collations below, characters with the same weight fold alike: each
// collation's weights map to key characters one to one, and a string's key
// is a function of its weights. Characters the collations disagree on (one
// calls 'ß' equal to 's', another to 'ss'; one ignores a control character,
// another does not) cannot fold for all of them: they are listed as
// unfoldable, and a key holding one has no shard of its own.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"unicode"

	_ "github.com/go-sql-driver/mysql"
)

// The collations a text key must agree with. Accent- and case-sensitive,
// binary and NO PAD variants call fewer strings equal, so a key that
// agrees with these agrees with them.
var collations = []string{"utf8mb4_general_ci", "utf8mb4_unicode_ci", "utf8mb4_unicode_520_ci", "utf8mb4_uca1400_ai_ci"}

const maxRune = 0x10FFFF

type override struct {
	first, last rune
	key         string
	self        bool // each character is its own key
}

// A variable is one weight (token) of one collation; classes unite the
// variables and characters that must share a key character.
type variable struct {
	coll  int
	token string
}

func main() {
	dsn := flag.String("dsn", "sg:sg@tcp(127.0.0.1:13310)/mysql", "MariaDB server to read weights from")
	flag.Parse()
	db, err := sql.Open("mysql", *dsn)
	if err != nil {
		log.Fatal(err)
	}
	var version string
	if err := db.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
		log.Fatal(err)
	}
	weights := make([][][]string, len(collations)) // [collation][rune] tokens; nil for surrogates
	for i, c := range collations {
		weights[i] = readWeights(db, c)
	}

	parent := map[any]any{}
	var find func(x any) any
	find = func(x any) any {
		p, ok := parent[x]
		if !ok || p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	anchor := map[any]rune{} // class root -> its key character
	fold := map[rune]rune{}
	unfoldable := map[rune]bool{}
	for _, r := range order() {
		if weights[0][r] == nil {
			continue // a surrogate
		}
		var vars []variable
		for i := range collations {
			t := weights[i][r]
			if len(t) != 1 {
				unfoldable[r] = true // ignorable, or an expansion
				break
			}
			vars = append(vars, variable{i, t[0]})
		}
		if unfoldable[r] {
			continue
		}
		key := unicode.ToLower(r)
		if r >= 0x80 {
			key = r
		}
		roots := map[any]bool{}
		for _, v := range vars {
			roots[find(v)] = true
		}
		keys := map[rune]bool{}
		for root := range roots {
			if k, ok := anchor[root]; ok {
				keys[k] = true
			}
		}
		if len(keys) > 1 {
			unfoldable[r] = true // would make two keys one
			continue
		}
		for k := range keys {
			key = k
		}
		root := find(vars[0])
		for _, v := range vars[1:] {
			if x := find(v); x != root {
				parent[x] = root
			}
		}
		anchor[root] = key
		fold[r] = key
	}

	// What the runtime assumes: printable ASCII folds to lower case, and
	// every foldable character beyond the BMP to U+FFFD (utf8mb4_general_ci
	// weighs them all as U+FFFD).
	for r := rune(0x20); r < 0x7F; r++ {
		if fold[r] != unicode.ToLower(r) {
			log.Fatalf("U+%04X folds to U+%04X, not its lower case", r, fold[r])
		}
	}
	for r := rune(0x10000); r <= maxRune; r++ {
		if k, ok := fold[r]; ok && k != 0xFFFD {
			log.Fatalf("U+%04X folds to U+%04X, not U+FFFD", r, k)
		}
	}
	for r, k := range fold {
		if k > 0xFFFF || unfoldable[k] || fold[k] != k {
			log.Fatalf("U+%04X folds to U+%04X, which is not a key character", r, k)
		}
	}

	var from, to []rune
	for r := rune(0x80); r <= 0xFFFF; r++ {
		if k, ok := fold[r]; ok && k != r {
			from, to = append(from, r), append(to, k)
		}
	}
	// One collation alone (the option collation): a character the others
	// disagree on folds as that collation has it. The collation's weights
	// map to key strings one to one: a weight a foldable character has to
	// that character's key, else to the first character in order that has
	// it alone; an unfoldable character folds to the keys of its weights
	// (none when it is ignored, several for an expansion: 'ß' to "ss").
	overrides := make([][]override, len(collations))
	for i, coll := range collations {
		g := map[string]string{}
		for _, r := range order() {
			if t := weights[i][r]; t != nil && len(t) == 1 && !unfoldable[r] {
				if _, ok := g[t[0]]; !ok {
					g[t[0]] = string(fold[r])
				}
			}
		}
		for _, r := range order() {
			if t := weights[i][r]; t != nil && len(t) == 1 {
				if _, ok := g[t[0]]; !ok {
					g[t[0]] = string(r)
				}
			}
		}
		for r := rune(0); r <= maxRune; r++ {
			if !unfoldable[r] {
				continue
			}
			var key strings.Builder
			for _, t := range weights[i][r] {
				k, ok := g[t]
				if !ok {
					log.Fatalf("%s: U+%04X has a weight no character has alone", coll, r)
				}
				key.WriteString(k)
			}
			o := override{r, r, key.String(), false}
			if o.key == string(r) {
				o.key, o.self = "", true // runs of these merge
			}
			os := overrides[i]
			if n := len(os); n > 0 && os[n-1].last == r-1 && os[n-1].key == o.key && os[n-1].self == o.self {
				os[n-1].last = r
			} else {
				os = append(os, o)
			}
			overrides[i] = os
		}
	}

	var ranges [][2]rune
	for r := rune(0); r <= maxRune; r++ {
		if !unfoldable[r] {
			continue
		}
		if n := len(ranges); n > 0 && ranges[n-1][1] == r-1 {
			ranges[n-1][1] = r
		} else {
			ranges = append(ranges, [2]rune{r, r})
		}
	}

	w := &strings.Builder{}
	fmt.Fprintf(w, "// Code generated by gen_fold.go from %s; DO NOT EDIT.\n\n", version)
	fmt.Fprintf(w, "package shardrules\n\n")
	fmt.Fprintf(w, "// foldCollations are the collations key text agrees with; overrides\n// folds as each alone does.\nvar foldCollations = [...]string{%q, %q, %q, %q}\n\n", collations[0], collations[1], collations[2], collations[3])
	fmt.Fprintf(w, "// foldFrom[i] folds to foldTo[i]: the BMP characters beyond ASCII that\n// do not fold to themselves (%d), ascending.\n", len(from))
	writeList(w, "foldFrom", from)
	writeList(w, "foldTo", to)
	fmt.Fprintf(w, "\n// overrides[c] folds the unfoldable characters as collations[c] alone\n// does: [first, last] to key (self: each to itself), ascending.\nvar overrides = [...][]override{\n")
	for i, os := range overrides {
		fmt.Fprintf(w, "\t// %s: %d ranges\n\t{\n", collations[i], len(os))
		for _, o := range os {
			fmt.Fprintf(w, "\t\t{0x%04X, 0x%04X, %+q, %v},\n", o.first, o.last, o.key, o.self)
		}
		w.WriteString("\t},\n")
	}
	w.WriteString("}\n")
	fmt.Fprintf(w, "\n// unfoldableRanges are the characters that fold under no single rule\n// (%d, in %d ranges), as [first, last] pairs, ascending.\n", len(unfoldable), len(ranges))
	fmt.Fprintf(w, "var unfoldableRanges = [...][2]rune{\n")
	for i, rg := range ranges {
		if i%6 == 0 {
			w.WriteString("\t")
		}
		fmt.Fprintf(w, "{0x%04X, 0x%04X},", rg[0], rg[1])
		if i%6 == 5 || i == len(ranges)-1 {
			w.WriteString("\n")
		} else {
			w.WriteString(" ")
		}
	}
	w.WriteString("}\n")
	os.Stdout.WriteString(w.String())
}

// order is the order characters are given key characters in: a class's key
// is its first member, so ASCII comes first (upper case as lower case), then
// the CJK unified ideographs (before the radicals and compatibility forms
// that some collations call equal to them), then the rest.
func order() []rune {
	var rs []rune
	for r := rune(0x20); r < 0x7F; r++ {
		rs = append(rs, r)
	}
	for r := rune(0x4E00); r <= 0x9FFF; r++ {
		rs = append(rs, r)
	}
	for r := rune(0); r <= maxRune; r++ {
		if (r >= 0x20 && r < 0x7F) || (r >= 0x4E00 && r <= 0x9FFF) {
			continue
		}
		rs = append(rs, r)
	}
	return rs
}

// readWeights returns each character's weight under coll, as tokens: 16-bit
// units, with an implicit weight's two units (a lead in FB00-FBFF) as one.
func readWeights(db *sql.DB, coll string) [][]string {
	out := make([][]string, maxRune+1)
	rows, err := db.Query(fmt.Sprintf(`SELECT seq, WEIGHT_STRING(CONVERT(CHAR(seq USING utf32) USING utf8mb4) COLLATE %s)
		FROM seq_0_to_%d WHERE seq NOT BETWEEN 0xD800 AND 0xDFFF`, coll, maxRune))
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r rune
		var w []byte
		if err := rows.Scan(&r, &w); err != nil {
			log.Fatal(err)
		}
		if len(w)%2 != 0 {
			log.Fatalf("%s: U+%04X has a weight of %d bytes", coll, r, len(w))
		}
		toks := []string{}
		for i := 0; i < len(w); i += 2 {
			if w[i] == 0xFB && i+3 < len(w) {
				toks = append(toks, string(w[i:i+4]))
				i += 2
				continue
			}
			toks = append(toks, string(w[i:i+2]))
		}
		out[r] = toks
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
	return out
}

func writeList(w *strings.Builder, name string, rs []rune) {
	fmt.Fprintf(w, "var %s = [...]uint16{\n", name)
	for i, r := range rs {
		if i%12 == 0 {
			w.WriteString("\t")
		}
		fmt.Fprintf(w, "0x%04X,", r)
		if i%12 == 11 || i == len(rs)-1 {
			w.WriteString("\n")
		} else {
			w.WriteString(" ")
		}
	}
	w.WriteString("}\n")
}
