package router

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

// Maintenance runs a table maintenance statement (ANALYZE, CHECK,
// CHECKSUM, OPTIMIZE or REPAIR TABLE) on the physical tables of the
// client's, one statement per node listing that node's, and answers as one
// server: each client table's rows under its own name, the messages its
// physical tables share once.
type Maintenance struct {
	Routes []*Route
	Tables []MaintainedTable
	// Checksum: rows are (Table, Checksum); otherwise (Table, Op,
	// Msg_type, Msg_text).
	Checksum bool
	// Op is the Op column one server shows ("check"), for the rows of a
	// table that does not exist.
	Op string
}

// MaintainedTable is one table of the client's list.
type MaintainedTable struct {
	Name string // "shop.orders", as one server names it
	// Physical are the nodes' names of its physical tables, as their rows
	// show them ("shop_0.orders_2"); none for a table no server is asked
	// about, whose rows then give Refusal: one server's error for a table
	// that does not exist (1146), or is not locked while the session holds
	// LOCK TABLES (1100).
	Physical []string
	Refusal  *mysql.MyError
}

// Commits reports that the statement commits an open transaction first,
// as on one server: all but CHECKSUM.
func (m *Maintenance) Commits() bool { return !m.Checksum }

func (m *Maintenance) explain(b *strings.Builder, d int) {
	line(b, d, "Maintenance %s", m.Op)
	for _, r := range m.Routes {
		r.explain(b, d+1)
	}
}

// PlanMaintenance plans a table maintenance statement. A table the schema
// does not have gets the rows one server gives it (an error message, or a
// NULL checksum), not an error; a global table's CHECKSUM reads one copy.
func PlanMaintenance(m parser.Maintenance, env *Env) (*Plan, error) {
	mt := &Maintenance{Checksum: m.Verb == "CHECKSUM", Op: strings.ToLower(m.Verb)}
	perNode := map[string]*Route{}
	seen := map[string]bool{}
	p := &Plan{Root: mt}
	for _, t := range m.Tables {
		schema := t.Schema
		if schema == "" {
			if schema = env.Schema; schema == "" {
				return nil, mysql.NewDefaultError(mysql.ER_NO_DB_ERROR)
			}
		}
		key := schema + "." + t.Name
		if seen[key] {
			return nil, mysql.NewDefaultError(mysql.ER_NONUNIQ_TABLE, t.Name)
		}
		seen[key] = true
		if systemSchemas[strings.ToLower(schema)] {
			return nil, errUnsupported("%s TABLE of %s.%s through the proxy: the servers' own tables are theirs", m.Verb, schema, t.Name)
		}
		mtab := MaintainedTable{Name: schema + "." + t.Name}
		var rule *shardrules.TableRule
		if env.Locks != nil && !Allows(env.Locks, schema, t.Name, "") {
			mtab.Refusal = ErrNotLocked(t.Name, "")
		} else if rules := env.Rules(schema); rules != nil {
			if env.CanUse != nil && !env.CanUse(schema) {
				return nil, mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, env.User, env.Host, schema)
			}
			rule = rules.Lookup(t.Name)
		}
		if rule != nil {
			p.Tables = append(p.Tables, rule.Name)
			places := rule.AllPlacements()
			if mt.Checksum && rule.Kind == shardrules.Global {
				places = places[:1] // (the copies hold the same rows)
			}
			for _, pl := range places {
				db := env.NodeDB(pl.Node)
				mtab.Physical = append(mtab.Physical, db+"."+pl.Table)
				r := perNode[pl.Node]
				if r == nil {
					r = &Route{Node: pl.Node, SQL: []string{m.Head + " "}}
					perNode[pl.Node] = r
					mt.Routes = append(mt.Routes, r)
				} else {
					r.SQL[0] += ", "
				}
				r.SQL[0] += quote(db) + "." + quote(pl.Table)
				if r.Shard != "" {
					r.Shard += ","
				}
				r.Shard += pl.Table
			}
		}
		if len(mtab.Physical) == 0 && mtab.Refusal == nil {
			mtab.Refusal = mysql.NewDefaultError(mysql.ER_NO_SUCH_TABLE, schema, t.Name)
		}
		mt.Tables = append(mt.Tables, mtab)
	}
	if m.Tail != "" {
		for _, r := range mt.Routes {
			r.SQL[0] += " " + m.Tail
		}
	}
	return p, nil
}
