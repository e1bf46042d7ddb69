package shardrules

//go:generate sh -c "go run gen_fold.go > fold_table.go.new && mv fold_table.go.new fold_table.go"

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// A string's key text must be the same for every string the column's
// collation calls equal, or equal values land on different shards and a
// lookup by one misses rows stored by another ('José' and 'JOSE' under
// utf8mb4_general_ci). The algorithms do not know the column's collation,
// so a text key folds each character to a key character that agrees with
// all of MariaDB's utf8mb4 root collations at once (fold_table.go, read
// from a server by gen_fold.go): printable ASCII to its lower case, 'É' and
// 'é' to 'e', 'Ａ' to 'a', a no-break space to a space, and every character
// beyond the BMP to U+FFFD (utf8mb4_general_ci weighs them all alike).
// Trailing spaces are dropped after folding (PAD SPACE).
//
// Some characters those collations disagree on fold under no single rule:
// 'ß' is 's' to one and 'ss' to another, combining marks and most control
// characters are ignored by some and not others. A string holding one, or
// bytes that are not UTF-8, has no key text: its shard depends on the
// column's collation (*CollationError). The option collation names it:
//
//	collation: utf8mb4_general_ci   (or _unicode_ci, _unicode_520_ci,
//	                                _uca1400_ai_ci) those characters fold as
//	                                that collation alone has them ('ß' is
//	                                's' or 'ss', an ignored one is dropped):
//	                                every UTF-8 string has a key
//	collation: binary               a column compared byte by byte: strings
//	                                keep their bytes, only ASCII A-Z
//	                                lower-cased and trailing spaces dropped
//
// Every other character folds the same way under every choice.

// comparison is how a column compares strings, as the option collation
// says: any utf8mb4 root collation (no option), byte by byte, or one
// collation (alone) whose overrides apply.
type comparison uint8

const (
	rootCollations comparison = iota
	bytewise
	firstCollation // + the index of foldCollations and overrides
)

// alone is the index of the collation c names alone, if it names one.
func (c comparison) alone() (int, bool) {
	return int(c - firstCollation), c >= firstCollation
}

// override folds the characters first..last (unfoldable under the root
// collations at once) as one collation alone does: to key, or each to
// itself (self).
type override struct {
	first, last rune
	key         string
	self        bool
}

// A CollationError is a string value whose shard depends on the column's
// collation, which the algorithm does not know. A router looks such a value
// up on every shard, and cannot place a row by it.
type CollationError struct {
	Algorithm string
	Value     Value
	Char      rune   // the character that does not fold; utf8.RuneError for bytes that are not UTF-8
	Charset   string // set instead when the text is in this client charset, not UTF-8
}

func (e *CollationError) Error() string {
	switch {
	case e.Charset != "":
		return fmt.Sprintf("%s sharding cannot place %s: it is %s text beyond ASCII, and sharding keys are read as UTF-8 (SET NAMES utf8mb4)", e.Algorithm, e.Value, e.Charset)
	case e.Char == utf8.RuneError:
		return fmt.Sprintf("%s sharding cannot place %s: it holds bytes that are not UTF-8 (for a binary column set the option collation: binary)", e.Algorithm, e.Value)
	}
	return fmt.Sprintf("%s sharding cannot place %s: it holds %q (U+%04X), which MariaDB's collations compare in different ways, so its shard depends on the column's collation (name it with the option collation: %s or binary)", e.Algorithm, e.Value, e.Char, e.Char, strings.Join(foldCollations[:], ", "))
}

// TextKey is the key text a string is placed by (a *CollationError when it
// has none): the text the hash algorithms hash, under the option
// collation ("" for none).
func TextKey(s, collation string) (string, error) {
	cmp, err := comparisonOf(collation)
	if err != nil {
		return "", err
	}
	return keyText{alg: "text", cmp: cmp}.key(StringValue(s))
}

// appendStringKey appends a string's key text to dst as the column
// compares strings: folded, or its bytes (bytewise); ok is false, with the
// offending character, when s has none.
func appendStringKey(dst []byte, s string, cmp comparison) (_ []byte, bad rune, ok bool) {
	if cmp == bytewise {
		return appendBinaryKey(dst, s), 0, true
	}
	return appendTextKey(dst, s, cmp)
}

// appendTextKey appends s folded (see above) to dst; ok is false, with the
// offending character, when s has no key text.
func appendTextKey(dst []byte, s string, cmp comparison) (_ []byte, bad rune, ok bool) {
	start := len(dst)
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7F { // printable ASCII, the common case
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return dst[:start], utf8.RuneError, false
		}
		var ok bool
		if dst, ok = appendFolded(dst, r, cmp); !ok {
			return dst[:start], r, false
		}
		i += size
	}
	for len(dst) > start && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return dst, 0, true
}

// appendBinaryKey appends s without trailing spaces and with ASCII A-Z
// lower-cased: the key text of a column compared byte by byte (folding
// only merges keys, which is harmless there).
func appendBinaryKey(dst []byte, s string) []byte {
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendFolded appends r's key to dst; false when r has none.
func appendFolded(dst []byte, r rune, cmp comparison) ([]byte, bool) {
	if !unfoldable(r) {
		return utf8.AppendRune(dst, foldRune(r)), true
	}
	c, ok := cmp.alone()
	if !ok {
		return dst, false
	}
	os := overrides[c]
	i := sort.Search(len(os), func(i int) bool { return os[i].last >= r })
	if i == len(os) || os[i].first > r {
		return dst, false // (every unfoldable character has an override)
	}
	if os[i].self {
		return utf8.AppendRune(dst, r), true
	}
	return append(dst, os[i].key...), true
}

// foldRune is the key character of r, which is not unfoldable.
func foldRune(r rune) rune {
	switch {
	case r < 0x80:
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	case r > 0xFFFF:
		return 0xFFFD
	}
	if i, found := slices.BinarySearch(foldFrom[:], uint16(r)); found {
		return rune(foldTo[i])
	}
	return r
}

// unfoldable reports whether r is in unfoldableRanges.
func unfoldable(r rune) bool {
	i := sort.Search(len(unfoldableRanges), func(i int) bool { return unfoldableRanges[i][1] >= r })
	return i < len(unfoldableRanges) && unfoldableRanges[i][0] <= r
}

// keyText reads values as key text under the column's comparison (the
// option collation).
type keyText struct {
	alg string
	cmp comparison
}

func newKeyText(alg string, o *opts) (keyText, error) {
	k := keyText{alg: alg}
	v, ok := o.get("collation")
	if !ok {
		return k, nil
	}
	s, _ := v.(string)
	var err error
	if k.cmp, err = comparisonOf(s); err != nil || s == "" {
		return k, optErr("collation", "want %s (a text column of that collation) or binary (a column compared byte by byte: BINARY, VARBINARY, BLOB or a _bin collation), or leave it out for any of those; got %v", strings.Join(foldCollations[:], ", "), v)
	}
	return k, nil
}

// comparisonOf reads the option collation ("": none); utf8mb3_ and utf8_
// name the same collations as utf8mb4_.
func comparisonOf(collation string) (comparison, error) {
	name := strings.ToLower(collation)
	switch {
	case name == "":
		return rootCollations, nil
	case name == "binary":
		return bytewise, nil
	case strings.HasPrefix(name, "utf8mb3_"):
		name = "utf8mb4_" + name[len("utf8mb3_"):]
	case strings.HasPrefix(name, "utf8_"):
		name = "utf8mb4_" + name[len("utf8_"):]
	}
	if i := slices.Index(foldCollations[:], name); i >= 0 {
		return firstCollation + comparison(i), nil
	}
	return 0, fmt.Errorf("no folding for collation %q", collation)
}

// append appends v's key text to dst.
func (k keyText) append(dst []byte, v Value) ([]byte, error) {
	b, bad, ok := v.appendKey(dst, k.cmp)
	if !ok {
		return dst, &CollationError{Algorithm: k.alg, Value: v, Char: bad}
	}
	return b, nil
}

// appendText appends the text a prefix is cut from: a string's key text
// as written (not read as a number), other values' key text.
func (k keyText) appendText(dst []byte, v Value) ([]byte, error) {
	if v.kind != StringKind {
		return k.append(dst, v)
	}
	b, bad, ok := appendStringKey(dst, v.s, k.cmp)
	if !ok {
		return dst, &CollationError{Algorithm: k.alg, Value: v, Char: bad}
	}
	return b, nil
}

// key is v's key text as a string (for building maps at start-up).
func (k keyText) key(v Value) (string, error) {
	b, err := k.append(nil, v)
	return string(b), err
}

// KeyComparison says how an algorithm reads a string key: "text" (folded
// for every utf8mb4 root collation), a collation's name or "binary" (the
// option collation), or "" when it reads strings as numbers or dates.
func KeyComparison(a Algorithm) string {
	kt, ok := a.(interface{ reading() comparison })
	if !ok {
		return ""
	}
	cmp := kt.reading()
	if c, ok := cmp.alone(); ok {
		return foldCollations[c]
	}
	if cmp == bytewise {
		return "binary"
	}
	return "text"
}

// reading is how the algorithm embedding k reads strings.
func (k keyText) reading() comparison { return k.cmp }
