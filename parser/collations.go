package parser

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/charset"
)

// Collation is a server collation (SHOW COLLATION).
type Collation struct {
	ID            int
	Charset, Name string
	Default       bool
}

// RegisterCollations tells the TiDB parser the servers' charsets and
// collations it does not know, so that statements naming them parse:
// MariaDB's utf8mb4_uca1400_ai_ci (the default of 11.x), the *_nopad_*
// collations, latin2, cp1251 and the rest. It fills the parser's global
// tables, which are not locked: call it before statements are parsed
// concurrently (at start-up).
func RegisterCollations(list []Collation) {
	for _, c := range list {
		cs := strings.ToLower(c.Charset)
		if _, err := charset.GetCharsetInfo(cs); err != nil && cs != "" {
			charset.AddCharset(&charset.Charset{Name: cs, Collations: map[string]*charset.Collation{}, Desc: cs, Maxlen: 4})
		}
		if info, err := charset.GetCharsetInfo(cs); err == nil && c.Default && info.DefaultCollation == "" {
			info.DefaultCollation = strings.ToLower(c.Name)
		}
	}
	for _, c := range list {
		name := strings.ToLower(c.Name)
		if _, err := charset.GetCollationByName(name); err == nil {
			continue
		}
		id := c.ID
		if _, err := charset.GetCollationByID(id); err == nil {
			id = 0 // the parser's own collation has this number: keep it
		}
		pad := charset.PadSpace
		if strings.Contains(name, "nopad") || strings.ToLower(c.Charset) == "binary" {
			pad = charset.PadNone
		}
		charset.AddCollation(&charset.Collation{ID: id, CharsetName: strings.ToLower(c.Charset), Name: name, IsDefault: c.Default, Sortlen: 1, PadAttribute: pad})
	}
}
