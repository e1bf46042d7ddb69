package conf

import (
	"slices"
	"strings"
	"time"
)

// Keys of the admin console and of observability: the slow-query
// threshold, the per-user SQL firewall and the per-table no_scatter mark.

// DefaultSlowQuery is the slow-query threshold when the file sets none.
const DefaultSlowQuery = time.Second

// SlowThreshold is the duration past which a statement is logged as slow.
func (c *Config) SlowThreshold() time.Duration {
	if c.SlowQuery <= 0 {
		return DefaultSlowQuery
	}
	return c.SlowQuery
}

// DenyRule refuses a user's statements: those of a kind (the statement's
// first word: delete, update, drop, truncate, ...) or those whose
// fingerprint (literals replaced by ?, see parser.Fingerprint) matches.
// Exactly one of the keys is set.
type DenyRule struct {
	Kind        string `yaml:"kind,omitempty"`
	Fingerprint string `yaml:"fingerprint,omitempty"`
}

// StatementKinds are the kinds a deny rule may name (parser.Kind's names).
var StatementKinds = []string{"select", "insert", "replace", "update", "delete", "load", "set", "use", "show",
	"begin", "commit", "rollback", "savepoint", "create", "alter", "drop", "truncate", "rename", "kill", "lock",
	"unlock", "xa", "prepare", "execute", "deallocate", "call", "handler", "explain", "do", "flush"}

// Firewalled reports whether the user has any firewall rule.
func (u *User) Firewalled() bool { return u.Guard || len(u.Deny) > 0 }

// checkAdmin checks the keys of this file's concern.
func (p *parser) checkAdmin(c *Config) {
	if c.SlowQuery < 0 {
		p.add(keyPath{"slow_query"}, "must be >= 0 (0 means the default, %v)", DefaultSlowQuery)
	}
	for i := range c.Users {
		for j, d := range c.Users[i].Deny {
			at := keyPath{"users", i, "deny", j}
			switch {
			case d.Kind == "" && d.Fingerprint == "":
				p.add(at, "a deny rule needs kind or fingerprint")
			case d.Kind != "" && d.Fingerprint != "":
				p.add(at, "a deny rule has either kind or fingerprint, not both")
			case d.Kind != "" && !slices.Contains(StatementKinds, strings.ToLower(d.Kind)):
				p.add(at.with("kind"), "unknown statement kind %q (want one of %s)", d.Kind, strings.Join(StatementKinds, ", "))
			}
		}
	}
	for i := range c.Schemas {
		for _, t := range c.Schemas[i].Tables {
			if t.NoScatter && t.Kind() != TableSharded && t.Kind() != TableChild {
				p.add(keyPath{"schemas", i, "tables", t.Name, "no_scatter"}, "no_scatter is for sharded and child tables: a %s table is never scattered", t.Kind())
			}
		}
	}
}
