package stats

import (
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/parser"
)

// Firewall is one user's compiled SQL firewall (conf.User's deny and guard).
type Firewall struct {
	user  string
	kinds [numKinds]int   // rule number (1-based) denying each kind, 0: none
	fps   map[uint64]int  // fingerprint hash -> rule number
	rules []conf.DenyRule // as written, for messages
	Guard bool            // refuse UPDATE/DELETE without WHERE, full scatters of no_scatter tables
}

// CompileFirewall compiles a user's rules; nil when the user has none.
func CompileFirewall(u *conf.User) *Firewall {
	if !u.Firewalled() {
		return nil
	}
	f := &Firewall{user: u.Name, fps: map[uint64]int{}, rules: u.Deny, Guard: u.Guard}
	for i, d := range u.Deny {
		switch {
		case d.Kind != "":
			for k := 0; k < numKinds; k++ {
				if parser.Kind(k).String() == strings.ToLower(d.Kind) && f.kinds[k] == 0 {
					f.kinds[k] = i + 1
				}
			}
		case d.Fingerprint != "":
			h := parser.FingerprintHash(d.Fingerprint)
			if f.fps[h] == 0 {
				f.fps[h] = i + 1
			}
		}
	}
	return f
}

// Refusal is the error a refused statement gets: 1105 naming the rule.
func (f *Firewall) refusal(why string) *mysql.MyError {
	return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate firewall: user '"+f.user+"': "+why)
}

// Check looks at one statement (not several): its kind, its fingerprint
// and, with guard, whether an UPDATE or DELETE has a WHERE. It returns the
// refusal, or nil.
func (f *Firewall) Check(sql string, kind parser.Kind) *mysql.MyError {
	if n := f.kinds[kind]; n != 0 {
		return f.refusal(fmt.Sprintf("deny rule %d (kind: %s) refuses %s statements", n, f.rules[n-1].Kind, strings.ToUpper(kind.String())))
	}
	if len(f.fps) > 0 {
		if n := f.fps[parser.FingerprintHash(sql)]; n != 0 {
			return f.refusal(fmt.Sprintf("deny rule %d (fingerprint: %q) refuses this statement", n, f.rules[n-1].Fingerprint))
		}
	}
	if f.Guard && (kind == parser.KindUpdate || kind == parser.KindDelete) && !hasWhere(sql) {
		return f.refusal(fmt.Sprintf("guard refuses %s without WHERE (it would change every row)", strings.ToUpper(kind.String())))
	}
	return nil
}

// NoScatter is the refusal of a read that visits every shard of a table
// marked no_scatter.
func (f *Firewall) NoScatter(table string, shards int) *mysql.MyError {
	return f.refusal(fmt.Sprintf("guard refuses reading all %d shards of %s (no_scatter: true): add a condition on its sharding column", shards, table))
}

// hasWhere reports whether the statement has a WHERE outside parentheses.
func hasWhere(sql string) bool {
	l := parser.NewLexer(sql)
	depth := 0
	for t := l.Next(); t.Kind != parser.TokEOF && t.Kind != parser.TokSemicolon; t = l.Next() {
		switch t.Kind {
		case parser.TokOp:
			switch l.Text(t) {
			case "(":
				depth++
			case ")":
				depth--
			}
		case parser.TokIdent:
			if depth == 0 && parser.EqualFold(l.Text(t), "WHERE") {
				return true
			}
		}
	}
	return false
}
