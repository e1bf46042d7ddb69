package router

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

// TableLock is one table of LOCK TABLES, resolved. While the session holds
// its locks, a statement may name only the locked tables, each under the
// name or alias it was locked with (resolve checks, with Env.Locked); each
// node locks its physical tables under the same alias and lock type.
type TableLock struct {
	Schema, Name string // the logical table
	Alias        string // "" when none
	Type         string // "READ LOCAL", "WRITE", ...
	Write        bool
	Physical     []shardrules.Placement
	// Implied: locked READ by the proxy, not named by the client: the
	// parent of a locked child table, whose rows the proxy reads to place
	// the child's (as a server locks the tables a foreign key names). The
	// client's statements may not name it.
	Implied bool
}

// Clause locks one of the table's physical tables, in database db.
func (t *TableLock) Clause(db, table string) string {
	s := quote(db) + "." + quote(table)
	if t.Alias != "" {
		s += " AS " + quote(t.Alias)
	}
	return s + " " + t.Type
}

// Allows reports whether a statement may name schema.table (under alias,
// "" for none) while the locks are held, as one server decides: the same
// table, locked under the same alias or likewise without one.
func Allows(locks []TableLock, schema, table, alias string) bool {
	return locked(locks, schema, table, alias, false)
}

func locked(locks []TableLock, schema, table, alias string, implied bool) bool {
	for i := range locks {
		l := &locks[i]
		if (implied || !l.Implied) && strings.EqualFold(l.Schema, schema) && strings.EqualFold(l.Name, table) && strings.EqualFold(l.Alias, alias) {
			return true
		}
	}
	return false
}

// ErrNotLocked is one server's answer to a table a statement names while
// the session holds LOCK TABLES without it.
func ErrNotLocked(table, alias string) *mysql.MyError {
	if alias != "" {
		table = alias
	}
	return mysql.NewDefaultError(mysql.ER_TABLE_NOT_LOCKED, table)
}

// PlanLock resolves LOCK TABLES: each table's physical tables, or the
// error one server gives (a table locked twice under one name 1066, a
// table or schema that does not exist 1146).
func PlanLock(lk parser.Lock, env *Env) ([]TableLock, error) {
	out := make([]TableLock, 0, len(lk.Tables))
	named := map[string]bool{}
	for _, t := range lk.Tables {
		schema := t.Schema
		if schema == "" {
			if schema = env.Schema; schema == "" {
				return nil, mysql.NewDefaultError(mysql.ER_NO_DB_ERROR)
			}
		}
		as := t.Alias
		if as == "" {
			as = t.Name
		}
		if named[strings.ToLower(as)] {
			return nil, mysql.NewDefaultError(mysql.ER_NONUNIQ_TABLE, as)
		}
		named[strings.ToLower(as)] = true
		if systemSchemas[strings.ToLower(schema)] {
			return nil, mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, env.User, env.Host, schema)
		}
		rules := env.Rules(schema)
		if rules != nil && env.CanUse != nil && !env.CanUse(schema) {
			return nil, mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, env.User, env.Host, schema)
		}
		var rule *shardrules.TableRule
		if rules != nil {
			rule = rules.Lookup(t.Name)
		}
		if rule == nil {
			return nil, mysql.NewDefaultError(mysql.ER_NO_SUCH_TABLE, schema, t.Name)
		}
		out = append(out, TableLock{Schema: schema, Name: rule.Name, Alias: t.Alias, Type: t.Type, Write: t.Write,
			Physical: rule.AllPlacements()})
	}
	for i := range out {
		for p := parentOf(env, &out[i]); p != nil; p = p.Parent {
			if !locked(out, out[i].Schema, p.Name, "", true) {
				out = append(out, TableLock{Schema: out[i].Schema, Name: p.Name, Type: "READ", Physical: p.AllPlacements(), Implied: true})
			}
		}
	}
	return out, nil
}

// parentOf is the parent of a locked child table, nil for other tables.
func parentOf(env *Env, t *TableLock) *shardrules.TableRule {
	if t.Implied {
		return nil // (its own parents are already in the list)
	}
	if r := env.Rules(t.Schema).Lookup(t.Name); r != nil && r.Kind == shardrules.Child {
		return r.Parent
	}
	return nil
}
