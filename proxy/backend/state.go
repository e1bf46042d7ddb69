package backend

import (
	"sort"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// State is a client session's state as a backend connection must carry it:
// the physical schema, the session variables that differ from the server's
// defaults, and user variables. A State is immutable once built; sessions
// make a new one on change, so "already synced" is a pointer comparison.
type State struct {
	Schema   string
	Vars     []Var // sorted by name, names lower case
	UserVars []Var // sorted by name, values are SQL literals
}

// Var is one variable assignment.
type Var struct{ Name, Value string }

// The charset variables are always present: a connection's charset is
// chosen at handshake, not by the server default, so "DEFAULT" would be wrong.
var charsetVars = [...]string{"character_set_client", "character_set_results", "character_set_connection", "collation_connection"}

// InitialState is the state of a freshly dialed connection.
func InitialState() *State {
	return CharsetState("utf8mb4", dialCollation)
}

// CharsetState is the state after a handshake with the given charset.
func CharsetState(charset, collation string) *State {
	return &State{Vars: []Var{
		{"character_set_client", charset},
		{"character_set_connection", charset},
		{"character_set_results", charset},
		{"collation_connection", collation},
	}}
}

// Var returns a variable's value and whether it is set.
func (s *State) Var(name string) (string, bool) {
	i := sort.Search(len(s.Vars), func(i int) bool { return s.Vars[i].Name >= name })
	if i < len(s.Vars) && s.Vars[i].Name == name {
		return s.Vars[i].Value, true
	}
	return "", false
}

// With returns a copy with the given variables set (user variables when
// user is true). It returns s itself when nothing changes.
func (s *State) With(user bool, vars ...Var) *State {
	list := s.Vars
	if user {
		list = s.UserVars
	}
	changed := false
	out := append([]Var(nil), list...)
	for _, v := range vars {
		i := sort.Search(len(out), func(i int) bool { return out[i].Name >= v.Name })
		switch {
		case i < len(out) && out[i].Name == v.Name:
			if out[i].Value != v.Value {
				out[i].Value = v.Value
				changed = true
			}
		default:
			out = append(out, Var{})
			copy(out[i+1:], out[i:])
			out[i] = v
			changed = true
		}
	}
	if !changed {
		return s
	}
	n := *s
	if user {
		n.UserVars = out
	} else {
		n.Vars = out
	}
	return &n
}

// Without returns a copy without the (system) variable name: the
// server's default again.
func (s *State) Without(name string) *State {
	i := sort.Search(len(s.Vars), func(i int) bool { return s.Vars[i].Name >= name })
	if i == len(s.Vars) || s.Vars[i].Name != name {
		return s
	}
	n := *s
	n.Vars = append(append([]Var(nil), s.Vars[:i]...), s.Vars[i+1:]...)
	return &n
}

// WithSchema returns a copy with another schema.
func (s *State) WithSchema(schema string) *State {
	if s.Schema == schema {
		return s
	}
	n := *s
	n.Schema = schema
	return &n
}

// Equal compares two states.
func (s *State) Equal(o *State) bool {
	if s == o {
		return true
	}
	return s.Schema == o.Schema && varsEqual(s.Vars, o.Vars) && varsEqual(s.UserVars, o.UserVars)
}

func varsEqual(a, b []Var) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// SetStatement returns the SET statement that turns state `from` into `to`
// (schema aside), or "" if their variables already agree.
func SetStatement(from, to *State) string {
	var b strings.Builder
	add := func(lhs, val string) {
		if b.Len() == 0 {
			b.WriteString("SET ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(lhs)
		b.WriteString(" = ")
		b.WriteString(val)
	}
	// Charset variables first and in this order: setting the connection
	// charset resets its collation.
	for _, name := range charsetVars {
		tv, _ := to.Var(name)
		if fv, ok := from.Var(name); !ok || fv != tv {
			add("@@SESSION."+name, charsetLiteral(tv))
		}
	}
	diffVars(from.Vars, to.Vars, func(name, val string, set bool) {
		if isCharsetVar(name) {
			return
		}
		if !set {
			add("@@SESSION."+name, "DEFAULT")
			return
		}
		add("@@SESSION."+name, SysVarLiteral(val))
	})
	diffVars(from.UserVars, to.UserVars, func(name, val string, set bool) {
		if !set {
			val = "NULL"
		}
		add("@"+QuoteIdent(name), val)
	})
	return b.String()
}

// diffVars calls fn for every name whose value in `to` differs from `from`,
// with set=false when `to` lacks it.
func diffVars(from, to []Var, fn func(name, val string, set bool)) {
	i, j := 0, 0
	for i < len(from) || j < len(to) {
		switch {
		case j == len(to) || (i < len(from) && from[i].Name < to[j].Name):
			fn(from[i].Name, "", false)
			i++
		case i == len(from) || to[j].Name < from[i].Name:
			fn(to[j].Name, to[j].Value, true)
			j++
		default:
			if from[i].Value != to[j].Value {
				fn(to[j].Name, to[j].Value, true)
			}
			i++
			j++
		}
	}
}

func isCharsetVar(name string) bool {
	for _, n := range charsetVars {
		if n == name {
			return true
		}
	}
	return false
}

// charsetLiteral quotes a charset value; an empty character_set_results
// means NULL (the client wants results unconverted).
func charsetLiteral(v string) string {
	if v == "" || strings.EqualFold(v, "NULL") {
		return "NULL"
	}
	return QuoteString(v)
}

// SysVarLiteral renders a tracked system-variable value: numbers bare (an
// integer variable refuses a quoted value), everything else quoted.
func SysVarLiteral(v string) string {
	if isNumber(v) {
		return v
	}
	return QuoteString(v)
}

func isNumber(v string) bool {
	if v == "" {
		return false
	}
	dot := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '-' && i == 0 && len(v) > 1:
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return true
}

// QuoteString quotes s as a SQL string literal that means the same under any
// sql_mode (NO_BACKSLASH_ESCAPES included): quotes doubled, and no
// backslash escapes used.
func QuoteString(s string) string {
	if !strings.ContainsAny(s, "'\\\x00\n\r\x1a") {
		return "'" + s + "'"
	}
	// Hex keeps every byte exact whatever the escaping mode.
	return "X'" + hexString(s) + "'"
}

func hexString(s string) string {
	const digits = "0123456789ABCDEF"
	b := make([]byte, 2*len(s))
	for i := 0; i < len(s); i++ {
		b[2*i] = digits[s[i]>>4]
		b[2*i+1] = digits[s[i]&15]
	}
	return string(b)
}

// QuoteIdent quotes an identifier with backquotes.
func QuoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// SyncDefaults brings a connection's variables back to the server's
// defaults, in the given schema, before a statement of the proxy's own: a
// pooled connection carries the variables of the session that used it
// last (sql_select_limit would cut the answer, autocommit=0 hold locks).
func (c *Conn) SyncDefaults(schema string) error {
	return c.Sync(InitialState().WithSchema(schema))
}

// Sync makes the connection carry the wanted state: schema through
// COM_INIT_DB (or a reset, for "no schema"), variables through one SET.
func (c *Conn) Sync(want *State) error {
	if c.State == want {
		return nil
	}
	if want.Schema == "" && c.State.Schema != "" && (c.XA != "" || c.Status&mysql.SERVER_STATUS_IN_TRANS != 0) {
		// The way back to "no database" is a reset, which would end the
		// transaction. A statement naming no table does not need it
		// (DATABASE() is the proxy's): the connection keeps its schema.
		want = want.WithSchema(c.State.Schema)
	}
	if want.Schema != c.State.Schema {
		if want.Schema == "" {
			// There is no way back to "no database" but a reset.
			if err := c.ResetSession(); err != nil {
				return err
			}
		} else {
			if _, err := c.SimpleCommand(mysql.COM_INIT_DB, want.Schema); err != nil {
				return err
			}
			c.State = c.State.WithSchema(want.Schema)
		}
	}
	if stmt := SetStatement(c.State, want); stmt != "" {
		if _, err := c.Exec(stmt); err != nil {
			return err
		}
	}
	c.State = want
	return nil
}
