package conf

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a config file. It prints as "file:line: key: reason".
type Error struct {
	File string
	Line int    // 0 when the problem has no line (an empty file)
	Key  string // key path such as "data_nodes[1].host"; "" for YAML syntax errors
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a file, sorted by line, printed one a line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Load reads and checks the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse decodes and checks a config; path names the file in errors and
// anchors relative paths in it. It returns every problem found, as Errors.
func Parse(path string, data []byte) (*Config, error) {
	p := &parser{file: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.syntaxError(err)
		return nil, p.errs
	}
	if len(doc.Content) == 0 {
		p.addAt(0, nil, "the file is empty")
		return nil, p.errs
	}
	p.root = doc.Content[0]
	if p.root.Kind != yaml.MappingNode {
		p.addAt(p.root.Line, nil, "the config must be a mapping of keys")
		return nil, p.errs
	}

	// yaml.v3's strict mode (KnownFields) exists only on its Decoder, which
	// cannot decode a Node we have touched; so unknown keys are found by
	// walking the node against the types, which also gives exact key paths.
	p.checkKeys(p.root, reflect.TypeOf(Config{}), nil)
	p.normalizeSize("max_allowed_packet")

	c := &Config{Path: path}
	if err := p.root.Decode(c); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			p.addAt(0, nil, "%v", err)
			return nil, p.errs
		}
		for _, msg := range te.Errors {
			p.typeError(msg)
		}
		// A value that failed to decode is left zero, and validating it
		// would only add confusing follow-up errors.
		return nil, p.sorted()
	}
	p.validate(c)
	if len(p.errs) > 0 {
		return nil, p.sorted()
	}
	p.applyDefaults(c)
	return c, nil
}

// parser collects the problems of one file.
type parser struct {
	file string
	root *yaml.Node // the top mapping
	errs Errors
}

// keyPath names a place in the file: string segments are mapping keys, int
// segments sequence indexes.
type keyPath []any

func (k keyPath) String() string {
	var b strings.Builder
	for _, seg := range k {
		switch s := seg.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// with returns k extended by segs, never sharing k's backing array.
func (k keyPath) with(segs ...any) keyPath {
	return append(append(keyPath{}, k...), segs...)
}

// add records a problem at the line of key (or of its nearest ancestor
// present in the file, for a missing key).
func (p *parser) add(key keyPath, format string, args ...any) {
	n, _ := p.lookup(key)
	p.addAt(n, key, format, args...)
}

func (p *parser) addAt(line int, key keyPath, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Key: key.String(), Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) sorted() Errors {
	sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
	return p.errs
}

// lookup returns the line of key's key (or sequence item) and whether it is
// in the file with a non-null value; when it is not, the line of its nearest
// ancestor that is.
func (p *parser) lookup(key keyPath) (line int, found bool) {
	n := p.root
	if n == nil {
		return 0, false
	}
	line = n.Line
	for _, seg := range key {
		n = deref(n)
		switch s := seg.(type) {
		case string:
			k, v := mapEntry(n, s)
			if k == nil {
				return line, false
			}
			line, n = k.Line, v
		case int:
			if n.Kind != yaml.SequenceNode || s >= len(n.Content) {
				return line, false
			}
			n = n.Content[s]
			line = n.Line
		}
	}
	return line, deref(n).ShortTag() != "!!null"
}

// has says whether key is given a value in the file (not left to its default).
func (p *parser) has(key keyPath) bool {
	_, ok := p.lookup(key)
	return ok
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// mapEntry returns the key and value nodes of name in mapping m, or nils.
func mapEntry(m *yaml.Node, name string) (key, val *yaml.Node) {
	if m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

var (
	tableMapType = reflect.TypeOf(TableMap{})
	tableType    = reflect.TypeOf(Table{})
)

// checkKeys reports every mapping key in n that type t has no field for.
// Shape mismatches (a list where a mapping belongs) are left to the decoder.
func (p *parser) checkKeys(n *yaml.Node, t reflect.Type, key keyPath) {
	n = deref(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == tableMapType:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				p.checkKeys(n.Content[i+1], tableType, key.with(n.Content[i].Value))
			}
		}
	case t.Kind() == reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				p.checkKeys(item, t.Elem(), key.with(i))
			}
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // a YAML merge: its keys land in this mapping
				p.checkKeys(v, t, key)
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				p.addAt(k.Line, key.with(k.Value), "unknown key %q", k.Value)
				continue
			}
			p.checkKeys(v, ft, key.with(k.Value))
		}
	}
}

// yamlFields maps each YAML key of struct type t to its field's type.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "-" && f.IsExported() {
			out[name] = f.Type
		}
	}
	return out
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// syntaxError turns yaml.v3's "yaml: line N: reason" into an Error.
func (p *parser) syntaxError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.addAt(line, nil, "%s", m[2])
		return
	}
	p.addAt(0, nil, "%s", strings.TrimPrefix(msg, "yaml: "))
}

var quotedValue = regexp.MustCompile("`([^`]*)`")

// typeError turns one of yaml.v3's "line N: cannot unmarshal ..." messages
// into an Error naming the key: the key whose value is quoted in the message,
// else the first key on that line.
func (p *parser) typeError(msg string) {
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		p.addAt(0, nil, "%s", msg)
		return
	}
	line, _ := strconv.Atoi(m[1])
	value := ""
	if q := quotedValue.FindStringSubmatch(m[2]); q != nil {
		value = strings.TrimSuffix(q[1], "...") // yaml.v3 cuts long values
	}
	var first, match keyPath
	walk(p.root, nil, func(n *yaml.Node, at int, key keyPath) {
		if at != line {
			return
		}
		if first == nil {
			first = key
		}
		if match == nil && value != "" && n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Value, value) {
			match = key
		}
	})
	if match == nil {
		match = first
	}
	p.addAt(line, match, "%s", m[2])
}

// walk calls fn for every node under n with the line of its key (or sequence
// item) and its key path.
func walk(n *yaml.Node, key keyPath, fn func(n *yaml.Node, line int, key keyPath)) {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := key.with(n.Content[i].Value)
			fn(n.Content[i+1], n.Content[i].Line, k)
			walk(n.Content[i+1], k, fn)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			k := key.with(i)
			fn(item, item.Line, k)
			walk(item, k, fn)
		}
	}
}

// normalizeSize rewrites a size written as "64M" under the top-level key
// into plain bytes before decoding, so the struct field stays an int.
func (p *parser) normalizeSize(key string) {
	k, v := mapEntry(p.root, key)
	if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() == "!!int" || v.ShortTag() == "!!null" {
		return
	}
	n, err := ParseSize(v.Value)
	if err != nil {
		p.addAt(k.Line, keyPath{key}, "%v", err)
		// Drop the entry so the decoder does not report the same value again.
		p.root.Content = removeEntry(p.root.Content, k)
		return
	}
	v.Value, v.Tag, v.Style = strconv.Itoa(n), "!!int", 0
}

func removeEntry(content []*yaml.Node, key *yaml.Node) []*yaml.Node {
	for i := 0; i+1 < len(content); i += 2 {
		if content[i] == key {
			return append(content[:i:i], content[i+2:]...)
		}
	}
	return content
}

var sizeSuffix = map[string]int{"": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}

var sizeText = regexp.MustCompile(`^(\d+)\s*([A-Za-z]*)$`)

// ParseSize reads a byte count such as "1048576", "64K", "16MB" or "1G";
// the units are binary (1K = 1024), as in MySQL's own settings.
func ParseSize(s string) (int, error) {
	m := sizeText.FindStringSubmatch(strings.TrimSpace(s))
	if m != nil {
		n, err := strconv.Atoi(m[1])
		unit, ok := sizeSuffix[strings.ToLower(m[2])]
		if err == nil && ok && n <= (1<<40)/unit {
			return n * unit, nil
		}
	}
	return 0, fmt.Errorf("%q is not a size (want bytes, or a number with K, M or G)", s)
}

// FormatSize writes n the shortest way ParseSize reads back: "64M", "1G", "1000".
func FormatSize(n int) string {
	for _, u := range []struct {
		suffix string
		size   int
	}{{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.Itoa(n/u.size) + u.suffix
		}
	}
	return strconv.Itoa(n)
}
