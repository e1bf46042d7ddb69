package admin

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/shardrules"
)

// Table rules edited in SQL, DistSQL-like:
//
//	[DRY RUN] CREATE SHARDING TABLE RULE orders (COLUMN=user_id, ALGORITHM=mod, SHARDS=4, NODES=(dn0,dn1)) IN shop
//	[DRY RUN] ALTER SHARDING TABLE RULE orders (SHARDS=8) IN shop [FORCE]
//	[DRY RUN] DROP TABLE RULE orders IN shop
//
// An edit makes a new config from the running one, validates it exactly as
// a file (conf.Parse of the marshalled YAML, then the algorithms' options),
// checks the servers (a change that would orphan rows is refused unless
// FORCE), creates the physical tables the new rule needs, writes the file,
// records a version and swaps the configuration as RELOAD does.
//
// Physical tables are created when the statement carries a definition
// (AS CREATE TABLE ...) or when the logical table already exists (some
// physical table of its old or new rule exists: its SHOW CREATE TABLE is
// the definition). A rule for a table that exists nowhere creates nothing:
// the client's CREATE TABLE through the proxy creates every physical table.

// ruleEdit is a parsed rule statement.
type ruleEdit struct {
	op            string // CREATE, ALTER, DROP
	kind          conf.TableKind
	kindGiven     bool
	schema, table string
	keys          map[string]any
	keyOrder      []string
	dry, force    bool
	ifExists      bool
	definition    string
}

var kindWords = map[string]conf.TableKind{
	"SHARDING": conf.TableSharded, "SHARDED": conf.TableSharded, "GLOBAL": conf.TableGlobal,
	"BROADCAST": conf.TableGlobal, "CHILD": conf.TableChild, "ER": conf.TableChild, "SINGLE": conf.TableSingle,
}

// keyNames maps the accepted property names to config keys.
var keyNames = map[string]string{
	"COLUMN": "column", "SHARDING_COLUMN": "column",
	"ALGORITHM": "algorithm", "TYPE": "algorithm", "ALGORITHM_TYPE": "algorithm",
	"SHARDS": "shards", "SHARDING_COUNT": "shards", "SHARD_COUNT": "shards",
	"NODES": "nodes", "DATANODES": "nodes", "DATA_NODES": "nodes", "STORAGE_UNITS": "nodes",
	"OPTIONS": "options", "PROPERTIES": "options",
	"PARENT": "parent", "PARENT_TABLE": "parent",
	"PARENT_COLUMN": "parent_column", "JOIN_COLUMN": "parent_column",
	"NODE": "node", "DATANODE": "node", "DATA_NODE": "node", "STORAGE_UNIT": "node",
	"NO_SCATTER": "no_scatter",
}

// kindKeys are the keys each kind of rule takes.
var kindKeys = map[conf.TableKind][]string{
	conf.TableSharded: {"column", "algorithm", "shards", "nodes", "options", "no_scatter"},
	conf.TableChild:   {"parent", "column", "parent_column", "no_scatter"},
	conf.TableGlobal:  {},
	conf.TableSingle:  {"node"},
}

func parseRuleEdit(t *tokens) (*ruleEdit, error) {
	e := &ruleEdit{keys: map[string]any{}}
	if t.accept("DRY", "RUN") {
		e.dry = true
	}
	op, ok := t.acceptAny("CREATE", "ALTER", "DROP")
	if !ok {
		return nil, t.errorf("CREATE, ALTER or DROP ... TABLE RULE expected")
	}
	e.op = op
	if k, ok := kindWords[t.peek()]; ok {
		t.i++
		e.kind, e.kindGiven = k, true
	} else if op != "DROP" {
		return nil, t.errorf("SHARDING, GLOBAL, CHILD or SINGLE expected")
	}
	if !t.accept("TABLE", "RULE") {
		return nil, t.errorf("TABLE RULE expected")
	}
	if op == "DROP" && t.accept("IF", "EXISTS") {
		e.ifExists = true
	}
	var err error
	if e.schema, e.table, err = t.qualified("table name"); err != nil {
		return nil, err
	}
	if t.accept("(") {
		if err := e.parseProps(t); err != nil {
			return nil, err
		}
	}
	for !t.done() {
		switch {
		case t.accept("IN"), t.accept("FROM"):
			if e.schema, err = t.name("schema name"); err != nil {
				return nil, err
			}
		case t.accept("FORCE"):
			e.force = true
		case t.peek() == "AS" || t.peek() == "CREATE":
			if op == "DROP" {
				return nil, t.errorf("DROP takes no table definition")
			}
			t.accept("AS")
			e.definition = t.rest()
			t.i = len(t.list)
		default:
			return nil, t.errorf("IN schema, FORCE or AS CREATE TABLE ... expected")
		}
	}
	return e, nil
}

// parseProps reads key=value, ... ) after the opening parenthesis.
func (e *ruleEdit) parseProps(t *tokens) error {
	if t.accept(")") {
		return nil
	}
	for {
		w := t.peek()
		key, ok := keyNames[w]
		if !ok {
			return t.errorf("unknown property %q (want COLUMN, ALGORITHM, SHARDS, NODES, OPTIONS, PARENT, PARENT_COLUMN, NODE or NO_SCATTER)", t.text(t.i))
		}
		t.i++
		if !t.accept("=") {
			return t.errorf("= expected after %s", w)
		}
		v, err := propValue(t)
		if err != nil {
			return err
		}
		if _, dup := e.keys[key]; dup {
			return t.errorf("%s given twice", w)
		}
		e.keys[key] = v
		e.keyOrder = append(e.keyOrder, key)
		if t.accept(")") {
			return nil
		}
		if !t.accept(",") {
			return t.errorf(", or ) expected")
		}
	}
}

// propValue reads a value: a word, number or string; a list (a, b); or a
// mapping (k=v, ...).
func propValue(t *tokens) (any, error) {
	if t.accept("(") {
		if t.accept(")") {
			return []any{}, nil
		}
		if t.text(t.i+1) == "=" {
			m := map[string]any{}
			for {
				k, err := t.name("option name")
				if err != nil {
					return nil, err
				}
				if !t.accept("=") {
					return nil, t.errorf("= expected")
				}
				v, err := propValue(t)
				if err != nil {
					return nil, err
				}
				m[strings.ToLower(k)] = v
				if t.accept(")") {
					return m, nil
				}
				if !t.accept(",") {
					return nil, t.errorf(", or ) expected")
				}
			}
		}
		var list []any
		for {
			v, err := propValue(t)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			if t.accept(")") {
				return list, nil
			}
			if !t.accept(",") {
				return nil, t.errorf(", or ) expected")
			}
		}
	}
	if t.done() {
		return nil, t.errorf("value expected")
	}
	tok := t.list[t.i]
	text := t.text(t.i)
	neg := false
	if tok.Kind == parser.TokOp && text == "-" {
		t.i++
		neg = true
		if t.done() || t.list[t.i].Kind != parser.TokNumber {
			return nil, t.errorf("number expected")
		}
		tok, text = t.list[t.i], "-"+t.text(t.i)
	}
	t.i++
	switch tok.Kind {
	case parser.TokNumber:
		if n, err := strconv.Atoi(text); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return f, nil
		}
		return text, nil
	case parser.TokString:
		return parser.UnquoteString(text), nil
	case parser.TokIdent, parser.TokQuotedIdent:
		if neg {
			break
		}
		switch strings.ToUpper(text) {
		case "TRUE":
			return true, nil
		case "FALSE":
			return false, nil
		}
		return parser.UnquoteIdent(text), nil
	}
	t.i--
	return nil, t.errorf("value expected")
}

// newRule builds the rule an edit makes from the old one (nil for CREATE).
func (e *ruleEdit) newRule(old *conf.Table) (*conf.Table, error) {
	kind := e.kind
	var t conf.Table
	switch {
	case old != nil && (!e.kindGiven || old.Kind() == e.kind):
		t = *old
		kind = old.Kind()
		t.Options = cloneMap(old.Options)
		t.Nodes = slices.Clone(old.Nodes)
	default:
		t = conf.Table{Name: e.table}
		if old != nil && kind != conf.TableSingle {
			t.AutoIncrement = old.AutoIncrement
		}
	}
	t.Line = 0
	if kind == conf.TableGlobal {
		t.Global = true
	}
	for _, k := range e.keyOrder {
		if !slices.Contains(kindKeys[kind], k) {
			return nil, errf("%s is not a key of a %s table rule (it takes %s)", strings.ToUpper(k), kind, keyList(kind))
		}
		v := e.keys[k]
		var err error
		switch k {
		case "column":
			t.Column, err = asString(k, v)
		case "algorithm":
			t.Algorithm, err = asString(k, v)
		case "parent":
			t.Parent, err = asString(k, v)
		case "parent_column":
			t.ParentColumn, err = asString(k, v)
		case "node":
			t.Node, err = asString(k, v)
		case "shards":
			n, ok := v.(int)
			if !ok {
				err = errf("SHARDS must be a number")
			}
			t.Shards = n
		case "nodes":
			t.Nodes, err = asStrings(k, v)
		case "options":
			m, ok := v.(map[string]any)
			if !ok {
				err = errf("OPTIONS must be (name=value, ...)")
			}
			t.Options = m
			if len(m) == 0 {
				t.Options = nil
			}
		case "no_scatter":
			b, ok := v.(bool)
			if !ok {
				err = errf("NO_SCATTER must be true or false")
			}
			t.NoScatter = b
		}
		if err != nil {
			return nil, err
		}
	}
	return &t, nil
}

func keyList(k conf.TableKind) string {
	if len(kindKeys[k]) == 0 {
		return "no keys"
	}
	var out []string
	for _, x := range kindKeys[k] {
		out = append(out, strings.ToUpper(x))
	}
	return strings.Join(out, ", ")
}

func asString(k string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	}
	return "", errf("%s must be a name", strings.ToUpper(k))
}

func asStrings(k string, v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		if s, err := asString(k, v); err == nil {
			return []string{s}, nil
		}
		return nil, errf("%s must be a list: (a, b)", strings.ToUpper(k))
	}
	var out []string
	for _, x := range list {
		s, err := asString(k, x)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// editRule runs a rule statement.
func (c *Console) editRule(cn *conn, t *tokens, sql string) (*result, error) {
	e, err := parseRuleEdit(t)
	if err != nil {
		return nil, err
	}
	unlock := c.mgr.lock()
	defer unlock()
	snap := c.holder.Load()
	cfg, err := cloneConfig(snap.Conf)
	if err != nil {
		return nil, err
	}
	if e.schema == "" {
		if e.schema, err = onlySchema(snap, e.table); err != nil {
			return nil, err
		}
	}
	sc := cfg.Schema(e.schema)
	if sc == nil {
		return nil, errf("no schema %q", e.schema)
	}
	old := sc.Table(e.table)
	switch {
	case e.op == "CREATE" && old != nil:
		return nil, errf("table %s.%s already has a %s rule: use ALTER %s TABLE RULE to change it", e.schema, e.table, old.Kind(), kindWord(old.Kind()))
	case e.op != "CREATE" && old == nil && e.ifExists:
		return okResult(fmt.Sprintf("table %s.%s has no rule: nothing to drop", e.schema, e.table)), nil
	case e.op != "CREATE" && old == nil:
		return nil, errf("table %s.%s has no rule: use CREATE ... TABLE RULE", e.schema, e.table)
	case e.op == "DROP" && e.kindGiven && old.Kind() != e.kind:
		return nil, errf("table %s.%s has a %s rule, not a %s one", e.schema, e.table, old.Kind(), e.kind)
	}
	if e.op == "DROP" {
		sc.Tables = slices.DeleteFunc(sc.Tables, func(x conf.Table) bool { return x.Name == e.table })
	} else {
		nt, err := e.newRule(old)
		if err != nil {
			return nil, err
		}
		if old != nil {
			*old = *nt
		} else {
			sc.Tables = append(sc.Tables, *nt)
		}
	}
	text, err := conf.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	next, err := conf.Parse(c.mgr.Path(), text)
	if err != nil {
		return nil, errf("refused, nothing changed: the new rule is not valid:\n%s", errorLines(err))
	}
	newRules, err := shardrules.Build(next.Schema(e.schema))
	if err != nil {
		return nil, errf("refused, nothing changed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	plan, err := c.planEdit(ctx, snap, next, e, newRules)
	if err != nil {
		return nil, err
	}
	r := &result{cols: cols("action", "target", "detail")}
	r.rows = plan.rows
	if e.dry {
		if len(plan.refusals) > 0 && !e.force {
			for _, why := range plan.refusals {
				r.rows = append(r.rows, []any{"would be refused", e.schema + "." + e.table, why + " (FORCE to do it anyway)"})
			}
		}
		r.rows = append(r.rows, []any{"dry run", e.schema + "." + e.table, "nothing changed"})
		return r, nil
	}
	if len(plan.refusals) > 0 && !e.force {
		return nil, errf("refused, nothing changed: %s; FORCE to do it anyway", strings.Join(plan.refusals, "; "))
	}
	if err := plan.create(ctx, snap); err != nil {
		return nil, errf("refused, the config is unchanged: creating the physical tables failed: %v", err)
	}
	a, err := c.mgr.edit(next, text, cn.user.Name, sql)
	if err != nil {
		return nil, errf("%s", errorLines(err))
	}
	for _, ch := range c.changesResult(a).rows {
		if ch[0] != "unchanged" {
			r.rows = append(r.rows, ch)
		}
	}
	return r, nil
}

func kindWord(k conf.TableKind) string {
	if k == conf.TableSharded {
		return "SHARDING"
	}
	return strings.ToUpper(k.String())
}

// cloneConfig deep-copies a config the way it is written: Marshal, Parse.
func cloneConfig(c *conf.Config) (*conf.Config, error) {
	text, err := conf.Marshal(c)
	if err != nil {
		return nil, err
	}
	out, err := conf.Parse(c.Path, text)
	if err != nil {
		return nil, fmt.Errorf("the running config does not read back: %w", err)
	}
	return out, nil
}

// editPlan is what an edit will do on the servers.
type editPlan struct {
	rows     [][]any
	refusals []string
	creates  []createDDL
}

// createDDL is a CREATE TABLE IF NOT EXISTS for one logical table under
// its new rule, rendered per physical table by the router.
type createDDL struct {
	schema, table string
	routes        []*router.Route
}

// signature says how a rule places rows: two rules with the same
// signature put every row in the same physical table.
func signature(r *shardrules.TableRule, ct *conf.Table) string {
	if r == nil {
		return "none"
	}
	switch r.Kind {
	case shardrules.Default, shardrules.Single:
		return "one:" + r.Node
	case shardrules.Global:
		return "global:" + strings.Join(r.Nodes, ",")
	case shardrules.Sharded:
		opts := ""
		if ct != nil {
			opts = fmt.Sprint(ct.Options)
		}
		return fmt.Sprintf("sharded:%s:%s:%d:%s:%s", strings.ToLower(r.Column), algorithmName(ct), r.Shards, strings.Join(r.Nodes, ","), opts)
	case shardrules.Child:
		return fmt.Sprintf("child:%s->%s.%s", strings.ToLower(r.Column), r.Parent.Name, strings.ToLower(r.ParentColumn))
	}
	return "?"
}

func algorithmName(ct *conf.Table) string {
	if ct == nil {
		return ""
	}
	return ct.Algorithm
}

// chainSignature adds the parents' signatures: a child moves with them.
func chainSignature(r *shardrules.TableRule, sc *conf.Schema) string {
	var parts []string
	for n := 0; r != nil && n < 64; n++ {
		parts = append(parts, signature(r, sc.Table(r.Name)))
		r = r.Parent
	}
	return strings.Join(parts, "|")
}

// planEdit finds the tables whose placement changes, what they hold and
// which physical tables the new rules need.
func (c *Console) planEdit(ctx context.Context, snap *snapshot.Snapshot, next *conf.Config, e *ruleEdit, newRules *shardrules.SchemaRules) (*editPlan, error) {
	p := &editPlan{}
	oldSc, newSc := snap.Conf.Schema(e.schema), next.Schema(e.schema)
	target := e.schema + "." + e.table
	if o, n := ruleLine(oldSc, e.table), ruleLine(newSc, e.table); o != n {
		p.rows = append(p.rows, []any{"rule", target, "- " + o}, []any{"rule", target, "+ " + n})
	} else {
		p.rows = append(p.rows, []any{"rule", target, "unchanged: " + n})
	}
	err := planSchema(ctx, p, snap, snap, next, e.schema, newRules, e.table, e.definition, e.force)
	return p, err
}

// ruleLine shows a table's rule in a schema.
func ruleLine(sc *conf.Schema, n string) string {
	if t := sc.Table(n); t != nil {
		return n + ": " + ruleText(t)
	}
	if sc.DefaultNode != "" {
		return n + ": (no rule: on the default node " + sc.DefaultNode + ")"
	}
	return n + ": (no rule)"
}

// planConfig plans a whole new config (a reload, a rollback) whose
// snapshot is next: every schema both configs have.
func planConfig(ctx context.Context, old, next *snapshot.Snapshot, force bool) (*editPlan, error) {
	p := &editPlan{}
	for _, sc := range next.Conf.Schemas {
		if old.Rules[sc.Name] == nil || old.Conf.Schema(sc.Name) == nil {
			continue
		}
		if err := planSchema(ctx, p, old, next, next.Conf, sc.Name, next.Rules[sc.Name], "", "", force); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// planSchema adds to p what the schema's new rules do to its tables: the
// tables whose placement changes (focus, the edited table, first; def its
// definition from the statement), rows they would orphan (refusals, or
// notes with force), and physical tables to create. Old placements are
// looked at through snap, new ones through view (the new snapshot, or snap
// when the data nodes do not change).
func planSchema(ctx context.Context, p *editPlan, snap, view *snapshot.Snapshot, next *conf.Config, schema string, newRules *shardrules.SchemaRules, focus, def string, force bool) error {
	oldRules := snap.Rules[schema]
	oldSc, newSc := snap.Conf.Schema(schema), next.Schema(schema)
	names := map[string]bool{}
	if focus != "" {
		names[focus] = true
	}
	for n := range oldRules.Tables {
		names[n] = true
	}
	for n := range newRules.Tables {
		names[n] = true
	}
	var affected []string
	for n := range names {
		if chainSignature(oldRules.Lookup(n), oldSc) != chainSignature(newRules.Lookup(n), newSc) {
			affected = append(affected, n)
		}
	}
	sort.Slice(affected, func(i, j int) bool {
		// The edited table first, then by name.
		if (affected[i] == focus) != (affected[j] == focus) {
			return affected[i] == focus
		}
		return affected[i] < affected[j]
	})
	for _, n := range affected {
		switch {
		case n == focus:
		case focus != "":
			p.rows = append(p.rows, []any{"placement changes", schema + "." + n, "follows " + focus + ": " + ruleLine(newSc, n)})
		default:
			p.rows = append(p.rows, []any{"placement changes", schema + "." + n, ruleLine(oldSc, n) + " -> " + ruleLine(newSc, n)})
		}
	}
	for _, n := range affected {
		oldR, newR := oldRules.Lookup(n), newRules.Lookup(n)
		var oldPs, newPs []shardrules.Placement
		if oldR != nil {
			oldPs = oldR.AllPlacements()
		}
		if newR != nil {
			newPs = newR.AllPlacements()
		}
		oldInfo, newInfo := inspect(ctx, snap, oldPs), inspect(ctx, view, newPs)
		var source *shardrules.Placement
		sourceSnap := snap
		for i, pl := range append(slices.Clone(oldPs), newPs...) {
			info, in := oldInfo, snap
			if i >= len(oldPs) {
				info, in = newInfo, view
			}
			if pi := info[pl]; pi.err != nil {
				return errf("cannot look at %s on %s: %v", pl.Table, pl.Node, pi.err)
			} else if pi.exists && source == nil {
				pl := pl
				source, sourceSnap = &pl, in
			}
		}
		// Rows the new rule would not find where they are.
		var holding []string
		for _, pl := range oldPs {
			if !oldInfo[pl].exists {
				continue
			}
			rows, err := hasRows(ctx, snap, pl)
			if err != nil {
				return errf("cannot look at %s on %s: %v", pl.Table, pl.Node, err)
			}
			if rows {
				holding = append(holding, pl.Node+"."+snap.Cluster.Nodes[pl.Node].Database+"."+pl.Table)
			}
		}
		if len(holding) > 0 {
			why := fmt.Sprintf("table %s.%s has rows in %s: its new placement (%s) would not find them where they are",
				schema, n, strings.Join(holding, ", "), describePlacement(newR))
			if force {
				p.rows = append(p.rows, []any{"orphaned (FORCE)", schema + "." + n, why})
			} else {
				p.refusals = append(p.refusals, why)
			}
		}
		// Physical tables to create.
		ddl := ""
		switch {
		case n == focus && def != "":
			ddl = def
		case source != nil:
			text, err := showCreate(ctx, sourceSnap, *source)
			if err != nil {
				return errf("cannot read the definition of %s on %s: %v", source.Table, source.Node, err)
			}
			names := map[string]string{source.Table: n}
			if r := oldRules.Lookup(n); r != nil && (r.Kind == shardrules.Sharded || r.Kind == shardrules.Child) {
				if i := slices.Index(r.AllPlacements(), *source); i >= 0 {
					for _, o := range oldRules.Tables {
						if (o.Kind == shardrules.Sharded || o.Kind == shardrules.Child) && o.Root == r.Root {
							names[o.Shard(i).Table] = o.Name
						}
					}
				}
			}
			ddl = normalizeDDL(text, names)
		}
		var missing []shardrules.Placement
		for _, pl := range newPs {
			if !newInfo[pl].exists {
				missing = append(missing, pl)
			}
		}
		switch {
		case ddl == "" && n == focus && len(missing) > 0:
			p.rows = append(p.rows, []any{"no physical tables", schema + "." + n,
				"the table exists nowhere yet: CREATE TABLE through the proxy creates its physical tables"})
		case ddl != "" && len(missing) > 0:
			routes, err := renderCreate(ddl, schema, n, next, newRules)
			if err != nil {
				return err
			}
			p.creates = append(p.creates, createDDL{schema: schema, table: n, routes: routes})
			from := "from the statement's definition"
			if n != focus || def == "" {
				from = "like " + source.Node + "." + sourceSnap.Cluster.Nodes[source.Node].Database + "." + source.Table
			}
			for _, pl := range missing {
				p.rows = append(p.rows, []any{"create table", pl.Node + "." + view.Cluster.Nodes[pl.Node].Database + "." + pl.Table, from})
			}
		}
	}
	return nil
}

func describePlacement(r *shardrules.TableRule) string {
	if r == nil {
		return "none"
	}
	var out []string
	for _, pl := range r.AllPlacements() {
		out = append(out, pl.Node+"."+pl.Table)
	}
	return r.Kind.String() + " on " + strings.Join(out, ", ")
}

// renderCreate renders CREATE TABLE IF NOT EXISTS for every physical table
// of the table's new rule, as the proxy does for a client's CREATE TABLE.
func renderCreate(def, schema, table string, next *conf.Config, rules *shardrules.SchemaRules) ([]*router.Route, error) {
	stmts, err := parser.Parse(def)
	if err != nil {
		return nil, errf("the table definition does not parse: %v", err)
	}
	if len(stmts) != 1 {
		return nil, errf("the table definition must be one CREATE TABLE statement")
	}
	ct, ok := stmts[0].(*ast.CreateTableStmt)
	if !ok {
		return nil, errf("the table definition must be a CREATE TABLE statement")
	}
	if ct.Table.Name.O != table {
		return nil, errf("the table definition creates %s, not %s", ct.Table.Name.O, table)
	}
	ct.Table.Schema = ast.NewCIStr("")
	ct.IfNotExists = true
	env := &router.Env{
		Schema: schema,
		Rules: func(s string) *shardrules.SchemaRules {
			if s == schema {
				return rules
			}
			return nil
		},
		NodeDB: func(node string) string {
			if n := next.DataNode(node); n != nil {
				return n.Database
			}
			return ""
		},
	}
	plan, err := router.Build(ct, env)
	if err != nil {
		return nil, errf("cannot plan the physical tables: %v", err)
	}
	return router.AppendRoutes(nil, plan.Root), nil
}

// create runs the CREATE TABLE statements on the nodes' primaries.
func (p *editPlan) create(ctx context.Context, snap *snapshot.Snapshot) error {
	for _, cd := range p.creates {
		for _, r := range cd.routes {
			dn := snap.Cluster.Nodes[r.Node]
			if dn == nil {
				return fmt.Errorf("no data node %s", r.Node)
			}
			for _, sql := range r.SQL {
				err := onNode(ctx, dn, func(c *backend.Conn) error {
					_, err := c.Exec(sql)
					return err
				})
				if err != nil {
					return fmt.Errorf("%s on %s: %w", oneLine(sql), r.Node, err)
				}
			}
		}
	}
	return nil
}
