package merge

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

//go:generate sh -c "go run gen_collation.go > collation_table.go.new && mv collation_table.go.new collation_table.go"

// Collation compares UTF-8 strings as one of MariaDB's collations does.
// The merge orders a string key by one when the column's collation is
// known and implemented here: the shards then send the strings alone,
// not their WEIGHT_STRING beside them, which costs a shard a third more
// CPU on a sorted range of short rows and triples the bytes.
type Collation struct {
	Name    string
	general bool // utf8mb4_general_ci's weights, else code points (_bin)
	pad     bool // PAD SPACE: trailing spaces do not count
}

// collations are the ones implemented; utf8mb3's name their utf8mb4
// twins' rules (their strings are the BMP part).
var collations = map[string]*Collation{}

func init() {
	for _, c := range []Collation{
		{Name: "general_ci", general: true, pad: true},
		{Name: "general_nopad_ci", general: true},
		{Name: "bin", pad: true},
		{Name: "nopad_bin"},
	} {
		for _, cs := range []string{"utf8mb4_", "utf8mb3_", "utf8_"} {
			c := c
			c.Name = cs + c.Name
			collations[c.Name] = &c
		}
	}
}

// CollationNamed returns the implemented collation of that (lower case)
// name, or nil.
func CollationNamed(name string) *Collation { return collations[name] }

// Compare orders a and b (-1, 0, +1). They are assumed valid UTF-8, as a
// server sends a utf8mb4 or utf8mb3 column; a byte that is not is
// compared as a character of its own value.
func (c *Collation) Compare(a, b []byte) int {
	if !c.general {
		if c.pad {
			return PadCompare(a, b, space)
		}
		return bytes.Compare(a, b)
	}
	// Equal bytes weigh alike: start at the character where they differ
	// (bytes before it are equal, so it starts at the same place in both).
	i := commonPrefix(a, b)
	for i > 0 && (i < len(a) && !utf8.RuneStart(a[i]) || i < len(b) && !utf8.RuneStart(b[i])) {
		i--
	}
	a, b = a[i:], b[i:]
	page0 := generalCIPages[0]
	for len(a) > 0 && len(b) > 0 {
		var wa, wb uint16
		na, nb := 1, 1
		if a[0] < utf8.RuneSelf {
			wa = page0[a[0]]
		} else {
			wa, na = generalWeight(a)
		}
		if b[0] < utf8.RuneSelf {
			wb = page0[b[0]]
		} else {
			wb, nb = generalWeight(b)
		}
		if wa != wb {
			if wa < wb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	sign := 1
	rest := a
	if len(b) > 0 {
		sign, rest = -1, b
	}
	if len(rest) == 0 {
		return 0
	}
	if !c.pad {
		return sign
	}
	// The longer string's rest against spaces: only its characters below
	// a space (whose weights are themselves, as above it) decide.
	for len(rest) > 0 {
		w, n := generalWeight(rest)
		if w != ' ' {
			if w < ' ' {
				return -sign
			}
			return sign
		}
		rest = rest[n:]
	}
	return 0
}

var space = []byte{' '}

// commonPrefix returns the length of the bytes a and b begin with alike,
// eight at a time.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// generalWeight is the weight of s's first character in
// utf8mb4_general_ci and its length in bytes: beyond the BMP, U+FFFD's.
func generalWeight(s []byte) (uint16, int) {
	if b := s[0]; b < utf8.RuneSelf {
		return generalCIPages[0][b], 1
	}
	r, n := utf8.DecodeRune(s)
	if r == utf8.RuneError && n == 1 {
		return uint16(s[0]), 1
	}
	if r > 0xFFFF {
		return 0xFFFD, n
	}
	if p := generalCIPages[r>>8]; p != nil {
		return p[r&0xFF], n
	}
	return uint16(r), n
}
