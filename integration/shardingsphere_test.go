//go:build integration

package integration

// ShardingSphere's e2e DQL cases (../shared/corpora/shardingsphere/e2e-sql,
// see its README) run through shardgate, with the `db` and `tbl` scenarios
// translated to a shardgate config, and compared with one plain database
// that holds the same rows (the oracle, 127.0.0.1:13310) — the way
// ShardingSphere's own e2e suite compares its proxy with an "expected"
// database.
//
//	SG_SKIP_TOPOLOGY=1 go test -tags integration -run TestShardingSphereDQL -v ./integration/
//	SG_SS_CASE='select-join:' ... (only the case ids matching a regexp)
//
// The test is a report: it logs how many MySQL cases pass, are refused
// (error 1235 "shardgate does not support ...") or fail, with the reasons.
// It fails only when a case gives a wrong answer (or an unexpected error)
// while the oracle agrees with itself, and the case is not listed in
// testdata/shardingsphere/known_failures.txt.
//
// Translation of the scenarios (env/scenario/{db,tbl}/proxy/conf/mysql):
//
//   - db: ds_0..ds_9 become data nodes ssdb0..ssdb9, databases ss_db_0..ss_db_9
//     alternately on dh0 and dh1. t_order is {column: user_id, algorithm: mod,
//     shards: 10, nodes: [ssdb0..ssdb9]}: IT.STANDARD.FIXTURE sends user_id v to
//     ds_(v%10), and shard i lives on nodes[i], so the rows land where
//     ShardingSphere puts them (checked against data/actual/dataset.xml). The
//     binding table t_order_item (also by user_id) is an ER child {parent:
//     t_order, column: user_id, parent_column: user_id}: same placement, and
//     shardgate treats joins on user_id as shard-local. Broadcast tables
//     (t_country, t_product_category) are global; the single tables are
//     {node: ...} on the data source that holds them (t_user, t_product on
//     ds_0; t_merchant, t_product_detail on ds_1); default_node ssdb0 stands
//     for SINGLE "*.*".
//   - tbl: one data node sstbl (database ss_tbl_0 on dh0). t_order is {column:
//     order_id, algorithm: mod, shards: 10, nodes: [sstbl]}, t_order_item its
//     ER child by order_id (binding table). t_product uses a HINT_INLINE
//     strategy in ShardingSphere (no sharding column: the shard comes from a
//     hint, without one every shard is read); shardgate has no hints, so it is
//     {column: product_id, algorithm: mod, shards: 10}, which is where
//     dataset.xml puts its rows (product_id % 10).
//
// Not expressible or not translated: the key generators (IT.AUTO_INCREMENT.
// FIXTURE) and auditors (IT.AUDITOR.FIXTURE, allowHintDisable) — DQL does not
// use them; the hint strategy of tbl's t_product (see above); physical table
// names (ShardingSphere keeps t_order in every db_i of `db`, shardgate names
// shard i t_order_i); t_order_sharding_view and t_order_details (rules without
// tables in the init SQL); db's t_single (in the actual init SQL only, not in
// the expected one); the broadcast tables of tbl (t_broadcast_table*, no
// tables in its init SQL).
//
// Each case runs in two modes, each compared with the oracle run the same way:
//
//   - prep: COM_STMT_PREPARE + COM_STMT_EXECUTE through database/sql, with the
//     assertion's typed parameters (int/long -> int64, String -> string); cases
//     without parameters are prepared too (binary protocol results).
//   - text: COM_QUERY with the parameters interpolated as SQL literals.
//
// The oracle is checked against itself first: every case also runs on a copy
// of the data in Aria tables filled in a shuffled order (so the physical row
// order differs, as it does across shards), compared the same way. A case
// whose two oracle runs differ is "oracle-unstable": reported, never failing.

import (
	"context"
	"database/sql"
	"encoding/xml"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ssCorpusDir is the ShardingSphere corpus (relative to integration/).
func ssCorpusDir() string {
	return filepath.Join(repoRoot, "..", "shared", "corpora", "shardingsphere")
}

// ssTestdata holds the known-failures file.
func ssTestdata() string { return filepath.Join("testdata", "shardingsphere") }

// ---------------------------------------------------------------- cases

type ssXMLCases struct {
	Cases []ssXMLCase `xml:"test-case"`
}

type ssXMLCase struct {
	SQL        string           `xml:"sql,attr"`
	DBTypes    string           `xml:"db-types,attr"`
	Scenarios  string           `xml:"scenario-types,attr"`
	Assertions []ssXMLAssertion `xml:"assertion"`
}

type ssXMLAssertion struct {
	Parameters       string `xml:"parameters,attr"`
	ExpectedDataFile string `xml:"expected-data-file,attr"`
	ExpectedSource   string `xml:"expected-data-source-name,attr"`
}

// ssCase is one MySQL DQL test case.
type ssCase struct {
	ID         string // <file without e2e-dql- and .xml>:<1-based position in the file>
	SQL        string
	Scenarios  []string
	Assertions []ssAssertion
}

type ssAssertion struct {
	Params   []ssParam
	DataFile string // expected-data-file (ShardingSphere's own expectation; we use the oracle)
}

type ssParam struct {
	Value any    // int64 or string
	Type  string // as written: int, long, String
}

// ssParseParams reads "10:int, init:String".
func ssParseParams(s string) ([]ssParam, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []ssParam
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		i := strings.LastIndex(part, ":")
		if i < 0 {
			return nil, fmt.Errorf("parameter %q has no type", part)
		}
		v, typ := part[:i], part[i+1:]
		switch strings.ToLower(typ) {
		case "int", "long", "smallint", "tinyint", "bigint":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("parameter %q: %v", part, err)
			}
			out = append(out, ssParam{n, typ})
		case "string", "varchar", "char":
			out = append(out, ssParam{v, typ})
		default:
			return nil, fmt.Errorf("parameter %q: unknown type %s", part, typ)
		}
	}
	return out, nil
}

// ssLoadCases reads every DQL case file. It returns the MySQL cases (db-types
// empty or naming MySQL) and how many cases the files hold in all.
func ssLoadCases(t testing.TB) (mysqlCases []ssCase, total int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(ssCorpusDir(), "e2e-sql", "cases", "dql", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no DQL case files under %s (%v)", ssCorpusDir(), err)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc ssXMLCases
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		stem := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "e2e-dql-"), ".xml")
		for i, c := range doc.Cases {
			total++
			if !ssIsMySQL(c.DBTypes) {
				continue
			}
			sc := ssCase{ID: fmt.Sprintf("%s:%d", stem, i+1), SQL: c.SQL}
			for _, s := range strings.Split(c.Scenarios, ",") {
				if s = strings.TrimSpace(s); s != "" {
					sc.Scenarios = append(sc.Scenarios, s)
				}
			}
			for _, a := range c.Assertions {
				ps, err := ssParseParams(a.Parameters)
				if err != nil {
					t.Fatalf("%s case %s: %v", f, sc.ID, err)
				}
				sc.Assertions = append(sc.Assertions, ssAssertion{Params: ps, DataFile: a.ExpectedDataFile})
			}
			if len(sc.Assertions) == 0 { // no <assertion>: run once, without parameters
				sc.Assertions = []ssAssertion{{}}
			}
			mysqlCases = append(mysqlCases, sc)
		}
	}
	return mysqlCases, total
}

func ssIsMySQL(dbTypes string) bool {
	if strings.TrimSpace(dbTypes) == "" {
		return true
	}
	for _, d := range strings.Split(dbTypes, ",") {
		if strings.TrimSpace(d) == "MySQL" {
			return true
		}
	}
	return false
}

func (c ssCase) in(scenario string) bool {
	for _, s := range c.Scenarios {
		if s == scenario {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- scenarios

// ssScenario is a ShardingSphere scenario translated to shardgate.
type ssScenario struct {
	Name   string // ShardingSphere's name: db, tbl
	Schema string // logical schema through the proxy, and the oracle database
	// physical maps a data node of ShardingSphere's actual dataset
	// ("db_3.t_order", "tbl.t_order_3") to where shardgate must hold its rows.
	physical func(dataNode string) (addr, db, table string)
}

// ssDBNodes is the number of data sources of scenario db.
const ssDBNodes = 10

func ssDBNodeAddr(i int) string {
	if i%2 == 0 {
		return dh0Primary
	}
	return dh1Primary
}

var ssScenarios = []ssScenario{
	{
		Name: "db", Schema: "ss_db",
		physical: func(dn string) (string, string, string) {
			db, table, _ := strings.Cut(dn, ".")
			i, _ := strconv.Atoi(strings.TrimPrefix(db, "db_"))
			switch table {
			case "t_order", "t_order_item": // sharded: shard i is t_x_i on node i
				return ssDBNodeAddr(i), fmt.Sprintf("ss_db_%d", i), fmt.Sprintf("%s_%d", table, i)
			}
			return ssDBNodeAddr(i), fmt.Sprintf("ss_db_%d", i), table
		},
	},
	{
		Name: "tbl", Schema: "ss_tbl",
		physical: func(dn string) (string, string, string) {
			_, table, _ := strings.Cut(dn, ".")
			return dh0Primary, "ss_tbl_0", table
		},
	},
}

// ssConfig serves both translated scenarios to user sg/sg (named like the
// oracle's user, so that USER() can agree).
func ssConfig() string {
	var b strings.Builder
	b.WriteString(`
listen: {{LISTEN}}
users:
  - {name: sg, password: sg, schemas: [ss_db, ss_tbl]}
data_hosts:
  - {name: dh0, user: sg, password: sg, primary: 127.0.0.1:13306}
  - {name: dh1, user: sg, password: sg, primary: 127.0.0.1:13307}
data_nodes:
`)
	var nodes []string
	for i := 0; i < ssDBNodes; i++ {
		fmt.Fprintf(&b, "  - {name: ssdb%d, host: dh%d, database: ss_db_%d}\n", i, i%2, i)
		nodes = append(nodes, fmt.Sprintf("ssdb%d", i))
	}
	b.WriteString("  - {name: sstbl, host: dh0, database: ss_tbl_0}\n")
	all := strings.Join(nodes, ", ")
	fmt.Fprintf(&b, `schemas:
  # scenario db: database sharding over ds_0..ds_9 by user_id %% 10
  - name: ss_db
    default_node: ssdb0                 # SINGLE "*.*"
    tables:
      t_order:            {column: user_id, algorithm: mod, shards: 10, nodes: [%s]}
      t_order_item:       {parent: t_order, column: user_id, parent_column: user_id}   # binding table
      t_user:             {node: ssdb0}   # single table on ds_0
      t_product:          {node: ssdb0}   # single table on ds_0
      t_merchant:         {node: ssdb1}   # single table on ds_1
      t_product_detail:   {node: ssdb1}   # single table on ds_1
      t_country:          {global: true}  # broadcast
      t_product_category: {global: true}  # broadcast
  # scenario tbl: table sharding inside one database by order_id %% 10
  - name: ss_tbl
    default_node: sstbl
    tables:
      t_order:      {column: order_id, algorithm: mod, shards: 10, nodes: [sstbl]}
      t_order_item: {parent: t_order, column: order_id, parent_column: order_id}      # binding table
      t_product:    {column: product_id, algorithm: mod, shards: 10, nodes: [sstbl]}  # HINT_INLINE in ShardingSphere
`, all)
	return b.String()
}

func (s ssScenario) dir() string {
	return filepath.Join(ssCorpusDir(), "e2e-sql", "env", "scenario", s.Name)
}

// ddl returns the logical CREATE TABLE / CREATE INDEX statements of the
// scenario's expected (single-database) init SQL, without the schema name.
func (s ssScenario) ddl(t testing.TB) []string {
	t.Helper()
	path := filepath.Join(s.dir(), "data", "expected", "init-sql", "mysql", "01-expected-init.sql")
	var out []string
	for _, st := range splitSQLFile(t, path) {
		up := strings.ToUpper(strings.TrimSpace(st))
		if strings.HasPrefix(up, "SET ") || strings.Contains(up, " DATABASE ") {
			continue
		}
		out = append(out, strings.ReplaceAll(st, "expected_dataset.", ""))
	}
	return out
}

// ---------------------------------------------------------------- data sets

type ssXMLDataset struct {
	Metadata []struct {
		DataNodes string `xml:"data-nodes,attr"`
		Columns   []struct {
			Name string `xml:"name,attr"`
			Type string `xml:"type,attr"`
		} `xml:"column"`
	} `xml:"metadata"`
	Rows []struct {
		DataNode string `xml:"data-node,attr"`
		Values   string `xml:"values,attr"`
	} `xml:"row"`
}

// ssTable is one logical table of a data set, rows as SQL literals.
type ssTable struct {
	Name  string
	Cols  []string
	Rows  [][]string
	Nodes map[string]int // actual dataset only: rows per data node
}

func ssReadDataset(t testing.TB, path string) ([]*ssTable, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ds ssXMLDataset
	if err := xml.Unmarshal(b, &ds); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	byName := map[string]*ssTable{}
	types := map[string][]string{}
	var tables []*ssTable
	for _, m := range ds.Metadata {
		// "expected_dataset.t_order", "db_${0..9}.t_order", "tbl.t_order_${0..9}"
		name := m.DataNodes
		if i := strings.LastIndex(name, "."); i >= 0 && !strings.HasSuffix(name, "}") {
			name = name[i+1:]
		} else if i := strings.Index(name, "${"); i >= 0 {
			pre := name[:i]
			if j := strings.LastIndex(pre, "."); j >= 0 {
				name = strings.TrimSuffix(pre[j+1:], "_")
			} else {
				name = "" // a database range: the table name follows the last '.'
			}
		}
		if name == "" {
			name = m.DataNodes[strings.LastIndex(m.DataNodes, ".")+1:]
		}
		tb := &ssTable{Name: name, Nodes: map[string]int{}}
		for _, c := range m.Columns {
			tb.Cols = append(tb.Cols, c.Name)
			types[name] = append(types[name], c.Type)
		}
		byName[name] = tb
		tables = append(tables, tb)
	}
	for _, r := range ds.Rows {
		// "db_3.t_order", "tbl.t_order_3", "expected_dataset.t_order"
		phys := r.DataNode[strings.LastIndex(r.DataNode, ".")+1:]
		tb := byName[phys]
		if tb == nil {
			if i := strings.LastIndex(phys, "_"); i > 0 {
				tb = byName[phys[:i]]
			}
		}
		if tb == nil {
			return nil, fmt.Errorf("%s: row of data node %s has no metadata", path, r.DataNode)
		}
		vals := strings.Split(r.Values, ",")
		if len(vals) != len(tb.Cols) {
			return nil, fmt.Errorf("%s: row %q of %s has %d values for %d columns", path, r.Values, r.DataNode, len(vals), len(tb.Cols))
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			v = strings.TrimSpace(v)
			switch typ := types[tb.Name][i]; {
			case v == "null":
				row[i] = "NULL"
			case typ == "numeric" || typ == "decimal":
				row[i] = v
			default:
				row[i] = ssQuote(v)
			}
		}
		tb.Rows = append(tb.Rows, row)
		tb.Nodes[r.DataNode]++
	}
	return tables, nil
}

func ssQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// ssInserts returns multi-row INSERTs (at most batch rows each) for the tables.
func ssInserts(tables []*ssTable, order func([][]string) [][]string) []string {
	var out []string
	for _, tb := range tables {
		rows := tb.Rows
		if order != nil {
			rows = order(rows)
		}
		const batch = 25
		for i := 0; i < len(rows); i += batch {
			var b strings.Builder
			fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", tb.Name, strings.Join(tb.Cols, ", "))
			for j, r := range rows[i:min(i+batch, len(rows))] {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(" + strings.Join(r, ", ") + ")")
			}
			out = append(out, b.String())
		}
	}
	return out
}

// ---------------------------------------------------------------- running

// ssMode is how a case is sent.
type ssMode string

const (
	ssPrep ssMode = "prep" // COM_STMT_PREPARE/EXECUTE with typed parameters
	ssText ssMode = "text" // COM_QUERY, parameters interpolated as literals
)

var ssModes = []ssMode{ssPrep, ssText}

// ssInterpolate replaces each ? outside strings, identifiers and comments by
// its parameter as a SQL literal.
func ssInterpolate(q string, params []ssParam) (string, error) {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(q) {
				if q[j] == '\\' && c != '`' {
					j += 2
					continue
				}
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j, len(q)-1)
			b.WriteString(q[i : j+1])
			i = j
		case c == '-' && strings.HasPrefix(q[i:], "-- "), c == '#':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i - 1
			}
			b.WriteString(q[i : i+j+1])
			i += j
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			end := len(q)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(q[i:end])
			i = end - 1
		case c == '?':
			if n >= len(params) {
				return "", fmt.Errorf("more ? than the %d parameters", len(params))
			}
			switch v := params[n].Value.(type) {
			case int64:
				b.WriteString(strconv.FormatInt(v, 10))
			case string:
				b.WriteString(ssQuote(v))
			}
			n++
		default:
			b.WriteByte(c)
		}
	}
	if n != len(params) {
		return "", fmt.Errorf("%d ? for %d parameters", n, len(params))
	}
	return b.String(), nil
}

// ssQuery runs one case on a dedicated connection and reads the rows as text
// (go-sql-driver renders binary-protocol values as text too).
func ssQuery(c *sql.Conn, mode ssMode, q string, params []ssParam) result {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	var rows *sql.Rows
	var err error
	switch mode {
	case ssPrep:
		var st *sql.Stmt
		st, err = c.PrepareContext(ctx, q)
		if err != nil {
			return result{Err: err}
		}
		defer st.Close()
		args := make([]any, len(params))
		for i, p := range params {
			args[i] = p.Value
		}
		rows, err = st.QueryContext(ctx, args...)
	case ssText:
		var text string
		if text, err = ssInterpolate(q, params); err != nil {
			return result{Err: fmt.Errorf("test bug: %v", err)}
		}
		rows, err = c.QueryContext(ctx, text)
	}
	if err != nil {
		return result{Err: err}
	}
	return readResult(rows)
}

// ---------------------------------------------------------------- comparing

// ssShape is what the comparison needs to know of a query's text.
type ssShape struct {
	orderBy []string // ORDER BY items (without ASC/DESC), nil if none
	limit   bool     // a LIMIT clause at the outer level
	// selectAlias maps a normalized select-list expression to its alias.
	selectAlias map[string]string
}

// ssTopLevel returns the byte offsets of q that are outside strings,
// quoted identifiers, comments and parentheses (depth 0), as a mask.
func ssTopLevel(q string) []bool {
	top := make([]bool, len(q))
	depth := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(q) && q[j] != c {
				if q[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			i = j
			continue
		case c == '-' && strings.HasPrefix(q[i:], "-- "), c == '#':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				return top
			}
			i += j
			continue
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return top
			}
			i += j + 3
			continue
		case c == '(':
			depth++
		case c == ')':
			depth--
		}
		if depth == 0 && c != ')' {
			top[i] = true
		}
	}
	return top
}

// ssKeyword finds the last top-level occurrence of a keyword phrase
// (words separated by blanks), returning its start and end, or -1.
func ssKeyword(q string, top []bool, words ...string) (int, int) {
	re := regexp.MustCompile(`(?i)\b` + strings.Join(words, `\s+`) + `\b`)
	start, end := -1, -1
	for _, m := range re.FindAllStringIndex(q, -1) {
		if top[m[0]] {
			start, end = m[0], m[1]
		}
	}
	return start, end
}

// ssSplitTop splits s at top-level commas.
func ssSplitTop(s string) []string {
	top := ssTopLevel(s)
	var out []string
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ',' && top[i] {
			out = append(out, strings.TrimSpace(s[last:i]))
			last = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[last:]))
}

func ssNorm(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "`", ""))
	return strings.Join(strings.Fields(s), "")
}

var (
	ssDirRe     = regexp.MustCompile(`(?i)\s+(ASC|DESC)$`)
	ssAsAliasRe = regexp.MustCompile("(?is)^(.*\\S)\\s+AS\\s+(`[^`]+`|'[^']+'|[A-Za-z_][A-Za-z_0-9]*)$")
	ssAliasRe   = regexp.MustCompile("(?is)^(.*[\\w)`'])\\s+(`[^`]+`|[A-Za-z_][A-Za-z_0-9]*)$")
	ssIdentRe   = regexp.MustCompile("^(`[^`]+`|[A-Za-z_][A-Za-z_0-9]*)(\\.(`[^`]+`|[A-Za-z_][A-Za-z_0-9]*))*$")
)

func ssShapeOf(q string) ssShape {
	q = strings.TrimRight(strings.TrimSpace(q), ";")
	top := ssTopLevel(q)
	var sh ssShape
	if s, _ := ssKeyword(q, top, "LIMIT"); s >= 0 {
		sh.limit = true
	}
	if _, e := ssKeyword(q, top, "ORDER", "BY"); e >= 0 {
		rest := q[e:]
		rtop := ssTopLevel(rest)
		cut := len(rest)
		for _, kw := range [][]string{{"LIMIT"}, {"FOR", "UPDATE"}, {"LOCK", "IN"}, {"FOR", "SHARE"}} {
			if s, _ := ssKeyword(rest, rtop, kw...); s >= 0 && s < cut {
				cut = s
			}
		}
		for _, it := range ssSplitTop(rest[:cut]) {
			it = strings.TrimSpace(ssDirRe.ReplaceAllString(strings.TrimSpace(it), ""))
			if it != "" {
				sh.orderBy = append(sh.orderBy, it)
			}
		}
	}
	// select list of the outer SELECT: from the first SELECT to the first top-level FROM
	sh.selectAlias = map[string]string{}
	if s, e := ssFirstKeyword(q, top, "SELECT"); s >= 0 {
		end := len(q)
		if f, _ := ssFirstKeywordAfter(q, top, e, "FROM"); f >= 0 {
			end = f
		}
		list := strings.TrimSpace(q[e:end])
		list = regexp.MustCompile(`(?i)^DISTINCT\s+`).ReplaceAllString(list, "")
		for _, it := range ssSplitTop(list) {
			if ssIdentRe.MatchString(it) || strings.HasSuffix(it, "*") {
				continue
			}
			m := ssAsAliasRe.FindStringSubmatch(it)
			if m == nil {
				m = ssAliasRe.FindStringSubmatch(it)
			}
			if m != nil {
				sh.selectAlias[ssNorm(m[1])] = strings.Trim(m[2], "`'")
			}
		}
	}
	return sh
}

func ssFirstKeyword(q string, top []bool, w string) (int, int) {
	return ssFirstKeywordAfter(q, top, 0, w)
}

func ssFirstKeywordAfter(q string, top []bool, from int, w string) (int, int) {
	re := regexp.MustCompile(`(?i)\b` + w + `\b`)
	for _, m := range re.FindAllStringIndex(q[from:], -1) {
		if top[from+m[0]] {
			return from + m[0], from + m[1]
		}
	}
	return -1, -1
}

// ssOrderColumns resolves ORDER BY items to result columns: a position, a
// column or alias name (the last part of a qualified name), or a select-list
// expression through its alias. It stops at the first item it cannot resolve
// (later items only order ties of earlier ones, so the prefix is a sound,
// weaker check) and says which.
func ssOrderColumns(sh ssShape, cols []string) (idx []int, unresolved string) {
	find := func(name string) int {
		for i, c := range cols {
			if strings.EqualFold(c, name) {
				return i
			}
		}
		return -1
	}
	for _, it := range sh.orderBy {
		switch {
		case regexp.MustCompile(`^\d+$`).MatchString(it):
			n, _ := strconv.Atoi(it)
			if n < 1 || n > len(cols) {
				return idx, it
			}
			idx = append(idx, n-1)
			continue
		case ssIdentRe.MatchString(it):
			parts := strings.Split(it, ".")
			if i := find(strings.Trim(parts[len(parts)-1], "`")); i >= 0 {
				idx = append(idx, i)
				continue
			}
		}
		if alias, ok := sh.selectAlias[ssNorm(it)]; ok {
			if i := find(alias); i >= 0 {
				idx = append(idx, i)
				continue
			}
		}
		found := -1
		for i, c := range cols {
			if ssNorm(c) == ssNorm(it) {
				found = i
				break
			}
		}
		if found < 0 {
			return idx, it
		}
		idx = append(idx, found)
	}
	return idx, ""
}

// ssCompare compares a result with the oracle's. It returns "" when they
// agree, and separately a note when only the column types differ.
func ssCompare(got, want result, sh ssShape) (diff, typeNote string) {
	if strings.Join(got.Cols, "\x00") != strings.Join(want.Cols, "\x00") {
		return fmt.Sprintf("columns differ: got %q, oracle %q", got.Cols, want.Cols), ""
	}
	if strings.Join(got.Types, ",") != strings.Join(want.Types, ",") {
		typeNote = fmt.Sprintf("column types differ: got %v, oracle %v", got.Types, want.Types)
	}
	if sh.limit && sh.orderBy == nil {
		// LIMIT without ORDER BY picks any rows: only the count is compared
		// here (the rows are checked against the unlimited result by the caller).
		if len(got.Rows) != len(want.Rows) {
			return fmt.Sprintf("LIMIT without ORDER BY: %d rows, oracle %d", len(got.Rows), len(want.Rows)), typeNote
		}
		return "", typeNote
	}
	if d := compareResults(result{Cols: got.Cols, Rows: got.Rows}, result{Cols: want.Cols, Rows: want.Rows}, false); d != "" {
		return d, typeNote
	}
	if sh.orderBy == nil {
		return "", typeNote
	}
	idx, _ := ssOrderColumns(sh, want.Cols)
	if len(idx) == 0 {
		return "", typeNote
	}
	key := func(r []string) string {
		k := make([]string, len(idx))
		for i, c := range idx {
			k[i] = r[c]
		}
		return fmtRow(k)
	}
	for i := range want.Rows {
		if g, w := key(got.Rows[i]), key(want.Rows[i]); g != w {
			return fmt.Sprintf("order differs at row %d of %d: ORDER BY key %s, oracle %s", i+1, len(want.Rows), g, w), typeNote
		}
	}
	return "", typeNote
}

// ssStripLimit removes the outer LIMIT clause (for LIMIT without ORDER BY).
func ssStripLimit(q string) string {
	top := ssTopLevel(q)
	if s, _ := ssKeyword(q, top, "LIMIT"); s >= 0 {
		return q[:s]
	}
	return q
}

// ---------------------------------------------------------------- verdicts

type ssVerdict string

const (
	ssPass      ssVerdict = "pass"       // same columns and rows as the oracle
	ssBothError ssVerdict = "both-error" // the oracle and the proxy fail with the same code
	ssRefused   ssVerdict = "refused"    // 1235 "shardgate does not support ..."
	ssFail      ssVerdict = "fail"
)

// ssRunResult is one case × scenario × assertion × mode.
type ssRunResult struct {
	Case      *ssCase
	Scenario  string
	Assertion int
	Mode      ssMode
	Verdict   ssVerdict
	Reason    string
	TypeNote  string
	Unstable  string // the oracle disagrees with its shuffled copy: why
	Known     string // reason from known_failures.txt
	OrderNote string // ORDER BY checked on a prefix of its items only: why
}

func (r *ssRunResult) key() string {
	return fmt.Sprintf("%s@%s/%s#%d", r.Case.ID, r.Scenario, r.Mode, r.Assertion+1)
}

// ssJudge compares a proxy result with the oracle's.
func ssJudge(got, want result, sh ssShape) (ssVerdict, string, string) {
	if want.Err != nil {
		wc, wm := errInfo(want.Err)
		switch {
		case got.Err == nil:
			return ssFail, fmt.Sprintf("the proxy answered %d rows; the oracle failed: %d %s", len(got.Rows), wc, wm), ""
		case isRefusal(got.Err):
			_, gm := errInfo(got.Err)
			return ssRefused, gm + fmt.Sprintf(" (the oracle fails too: %d %s)", wc, wm), ""
		}
		gc, gm := errInfo(got.Err)
		if gc != wc {
			return ssFail, fmt.Sprintf("error code differs: proxy %d %q, oracle %d %q", gc, gm, wc, wm), ""
		}
		return ssBothError, fmt.Sprintf("%d %s", wc, wm), ""
	}
	if got.Err != nil {
		if isRefusal(got.Err) {
			_, gm := errInfo(got.Err)
			return ssRefused, gm, ""
		}
		gc, gm := errInfo(got.Err)
		return ssFail, fmt.Sprintf("proxy error %d: %s", gc, gm), ""
	}
	d, note := ssCompare(got, want, sh)
	if d != "" {
		return ssFail, d, note
	}
	return ssPass, "", note
}

// ssKnownFailures reads known_failures.txt: "id[@scenario[/mode]] | reason"
// per line; # comments and blank lines are skipped.
func ssKnownFailures(t testing.TB) map[string]string {
	t.Helper()
	path := filepath.Join(ssTestdata(), "known_failures.txt")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, ok := strings.Cut(line, "|")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("%s:%d: want \"case-id[@scenario[/mode]] | reason\"", path, n+1)
		}
		out[strings.TrimSpace(id)] = strings.TrimSpace(reason)
	}
	return out
}

func (r *ssRunResult) knownReason(known map[string]string) (string, string) {
	for _, k := range []string{
		r.Case.ID + "@" + r.Scenario + "/" + string(r.Mode),
		r.Case.ID + "@" + r.Scenario,
		r.Case.ID,
	} {
		if why, ok := known[k]; ok {
			return k, why
		}
	}
	return "", ""
}

// ---------------------------------------------------------------- the test

func TestShardingSphereDQL(t *testing.T) {
	start := time.Now()
	cases, total := ssLoadCases(t)
	known := ssKnownFailures(t)
	var filter *regexp.Regexp
	if f := os.Getenv("SG_SS_CASE"); f != "" {
		filter = regexp.MustCompile(f)
	}

	// Which cases apply.
	var applicable []*ssCase
	perScenario := map[string]int{}
	var otherScenarios []string
	for i := range cases {
		c := &cases[i]
		any := false
		for _, s := range ssScenarios {
			if c.in(s.Name) {
				perScenario[s.Name]++
				any = true
			}
		}
		if !any {
			otherScenarios = append(otherScenarios, c.ID+" ["+strings.Join(c.Scenarios, ",")+"]")
			continue
		}
		if filter != nil && !filter.MatchString(c.ID) {
			continue
		}
		applicable = append(applicable, c)
	}
	t.Logf("DQL cases: %d in the files, %d for MySQL; %d of those run in scenario db or tbl (db %d, tbl %d); %d only in other scenarios",
		total, len(cases), len(cases)-len(otherScenarios), perScenario["db"], perScenario["tbl"], len(otherScenarios))

	p := StartProxy(t, ssConfig())
	defer func() {
		if t.Failed() {
			t.Logf("proxy log (tail):\n%s", tail(p.Log(), 40))
		}
	}()
	if strings.Contains(p.Log(), "panic") {
		t.Errorf("proxy log mentions a panic at start-up")
	}

	var runs []*ssRunResult
	var setupNotes []string
	for _, sc := range ssScenarios {
		var mine []*ssCase
		for _, c := range applicable {
			if c.in(sc.Name) {
				mine = append(mine, c)
			}
		}
		if len(mine) == 0 {
			continue
		}
		rs, notes := ssRunScenario(t, p, sc, mine)
		runs = append(runs, rs...)
		setupNotes = append(setupNotes, notes...)
	}

	// Verdicts per run, known failures, and what fails the test.
	usedKnown := map[string]bool{}
	var unexpected []*ssRunResult
	for _, r := range runs {
		if r.Verdict != ssFail {
			continue
		}
		if k, why := r.knownReason(known); k != "" {
			r.Known = why
			usedKnown[k] = true
			continue
		}
		if r.Unstable == "" {
			unexpected = append(unexpected, r)
		}
	}
	ssReport(t, cases, applicable, otherScenarios, runs, setupNotes)
	for k := range known {
		if !usedKnown[k] && (filter == nil || filter.MatchString(k)) {
			t.Logf("known_failures.txt lists %s, which did not fail: remove it", k)
		}
	}
	for _, r := range unexpected {
		t.Errorf("%s: wrong answer (not in known_failures.txt)\n  SQL: %s\n  %s", r.key(), r.Case.SQL, r.Reason)
	}
	t.Logf("runtime %s", time.Since(start).Round(time.Millisecond))
}

// ssRunScenario sets the scenario up (oracle, shuffled oracle copy, proxy)
// and runs its cases.
func ssRunScenario(t *testing.T, p *Proxy, sc ssScenario, cases []*ssCase) ([]*ssRunResult, []string) {
	var notes []string
	ddl := sc.ddl(t)
	expected, err := ssReadDataset(t, filepath.Join(sc.dir(), "data", "expected", "dataset.xml"))
	if err != nil {
		t.Fatal(err)
	}
	actual, err := ssReadDataset(t, filepath.Join(sc.dir(), "data", "actual", "dataset.xml"))
	if err != nil {
		t.Fatal(err)
	}
	inserts := ssInserts(expected, nil)

	type key struct {
		c    *ssCase
		a    int
		mode ssMode
	}
	runAll := func(db *sql.DB) map[key]result {
		out := map[key]result{}
		conn := Conn(t, db)
		for _, c := range cases {
			for ai, a := range c.Assertions {
				for _, m := range ssModes {
					out[key{c, ai, m}] = ssQuery(conn, m, c.SQL, a.Params)
				}
			}
		}
		return out
	}

	// 1. The oracle's self-check copy: Aria tables, rows in a shuffled order.
	rnd := rand.New(rand.NewSource(7))
	shuffle := func(rows [][]string) [][]string {
		out := append([][]string(nil), rows...)
		rnd.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	}
	chk := openOracle(t, sc.Schema)
	chk.SetMaxOpenConns(2)
	var ariaDDL []string
	for _, s := range ddl {
		if strings.HasPrefix(strings.ToUpper(s), "CREATE TABLE") {
			s += " ENGINE=Aria"
		}
		ariaDDL = append(ariaDDL, s)
	}
	if err := execAll(chk, append(ariaDDL, ssInserts(expected, shuffle)...)); err != nil {
		t.Fatalf("%s: oracle copy: %v", sc.Name, err)
	}
	copyRes := runAll(chk)
	var unlimited = map[string]result{}
	chk.Close()

	// 2. The oracle: InnoDB, rows in the data set's order.
	oracle := openOracle(t, sc.Schema)
	oracle.SetMaxOpenConns(2)
	if err := execAll(oracle, append(append([]string(nil), ddl...), inserts...)); err != nil {
		t.Fatalf("%s: oracle: %v", sc.Name, err)
	}
	oracleRes := runAll(oracle)
	oconn := Conn(t, oracle)
	for _, c := range cases {
		if sh := ssShapeOf(c.SQL); sh.limit && sh.orderBy == nil {
			for ai, a := range c.Assertions {
				unlimited[fmt.Sprintf("%s#%d", c.ID, ai)] = ssQuery(oconn, ssText, ssStripLimit(c.SQL), a.Params)
			}
		}
	}

	// 3. Through the proxy: drop, create, load.
	proxy := Open(t, DSN("sg", "sg", p.Addr, sc.Schema))
	proxy.SetMaxOpenConns(2)
	var tables []string
	for _, s := range ddl {
		if f := strings.Fields(s); len(f) > 2 && strings.EqualFold(f[0], "CREATE") && strings.EqualFold(f[1], "TABLE") {
			name := f[2]
			if i := strings.IndexByte(name, '('); i >= 0 {
				name = name[:i]
			}
			tables = append(tables, name)
		}
	}
	for i := len(tables) - 1; i >= 0; i-- {
		if err := execAll(proxy, []string{"DROP TABLE IF EXISTS " + tables[i]}); err != nil {
			t.Fatalf("%s: through the proxy: %v", sc.Name, err)
		}
	}
	for _, s := range ddl {
		err := execAll(proxy, []string{s})
		if err == nil {
			continue
		}
		if !strings.HasPrefix(strings.ToUpper(s), "CREATE INDEX") {
			t.Fatalf("%s: through the proxy: %v", sc.Name, err)
		}
		// An index is not what the DQL cases test: note it and create it on
		// every physical table directly, so that FORCE INDEX cases still run.
		notes = append(notes, fmt.Sprintf("%s: %v (created directly on the physical tables instead)", sc.Name, err))
		ssCreateIndexDirect(t, sc, actual, s)
	}
	if err := execAll(proxy, inserts); err != nil {
		t.Fatalf("%s: loading the data set through the proxy: %v", sc.Name, err)
	}
	ssCheckPlacement(t, sc, actual)

	// 4. The cases through the proxy, compared.
	pconn := Conn(t, proxy)
	var out []*ssRunResult
	passed := map[key]bool{}
	for _, c := range cases {
		sh := ssShapeOf(c.SQL)
		for ai, a := range c.Assertions {
			for _, m := range ssModes {
				k := key{c, ai, m}
				got := ssQuery(pconn, m, c.SQL, a.Params)
				want := oracleRes[k]
				r := &ssRunResult{Case: c, Scenario: sc.Name, Assertion: ai, Mode: m}
				r.Verdict, r.Reason, r.TypeNote = ssJudge(got, want, sh)
				if r.Verdict == ssPass && sh.limit && sh.orderBy == nil && got.Err == nil {
					all := unlimited[fmt.Sprintf("%s#%d", c.ID, ai)]
					if bad := ssNotIn(got.Rows, all.Rows); bad != nil {
						r.Verdict, r.Reason = ssFail, "LIMIT without ORDER BY: row "+fmtRow(bad)+" is not in the oracle's unlimited result"
					}
				}
				if os.Getenv("SG_SS_VERBOSE") != "" {
					first := "(no rows)"
					if len(got.Rows) > 0 {
						first = fmtRow(got.Rows[0])
					}
					t.Logf("%s: %s %s | proxy %d rows, first %s, cols %q, err %v | oracle %d rows, err %v",
						r.Case.ID+"@"+sc.Name+"/"+string(m), r.Verdict, r.Reason, len(got.Rows), first, got.Cols, got.Err, len(want.Rows), want.Err)
				}
				if sh.orderBy != nil && want.Err == nil {
					if idx, unres := ssOrderColumns(sh, want.Cols); unres != "" {
						r.OrderNote = fmt.Sprintf("ORDER BY item %q is not a result column: order checked on the first %d item(s), rows as a multiset", unres, len(idx))
					}
				}
				// Does the oracle agree with itself?
				if v, why, _ := ssJudge(copyRes[k], want, sh); v != ssPass && v != ssBothError {
					r.Unstable = why
				}
				passed[k] = r.Verdict == ssPass && r.Unstable == "" && !sh.limit
				out = append(out, r)
			}
		}
	}

	// 5. What passed runs again in one transaction (a node's shards then run
	// in turn on its one connection) and must pass again.
	tconn := Conn(t, proxy)
	ctx := context.Background()
	if _, err := tconn.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	again := 0
	for _, c := range cases {
		for ai, a := range c.Assertions {
			for _, m := range ssModes {
				k := key{c, ai, m}
				if !passed[k] {
					continue
				}
				again++
				if v, why, _ := ssJudge(ssQuery(tconn, m, c.SQL, a.Params), oracleRes[k], ssShapeOf(c.SQL)); v != ssPass {
					t.Errorf("%s@%s/%s in a transaction: %s (passes outside one)\n  SQL: %s", c.ID, sc.Name, m, why, c.SQL)
				}
			}
		}
	}
	if _, err := tconn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Error(err)
	}
	t.Logf("%s: %d passing runs again in one transaction", sc.Name, again)
	return out, notes
}

// ssNotIn returns the first row of rows missing from all (as multisets), or nil.
func ssNotIn(rows, all [][]string) []string {
	have := map[string]int{}
	for _, r := range all {
		have[rowKey(r)]++
	}
	for _, r := range rows {
		if have[rowKey(r)] == 0 {
			return r
		}
		have[rowKey(r)]--
	}
	return nil
}

// ssCreateIndexDirect runs a logical CREATE INDEX on every physical table of
// its table, found through the actual dataset's data nodes.
func ssCreateIndexDirect(t *testing.T, sc ssScenario, actual []*ssTable, stmt string) {
	m := regexp.MustCompile(`(?i)^CREATE\s+INDEX\s+(\S+)\s+ON\s+(\w+)\s*(\(.*\))$`).FindStringSubmatch(strings.TrimSpace(stmt))
	if m == nil {
		t.Fatalf("cannot read %q", stmt)
	}
	for _, tb := range actual {
		if tb.Name != m[2] {
			continue
		}
		for dn := range tb.Nodes {
			addr, db, phys := sc.physical(dn)
			d := Open(t, DSN("sg", "sg", addr, db))
			MustExec(t, d, fmt.Sprintf("CREATE INDEX %s ON %s %s", m[1], phys, m[3]))
		}
	}
}

// ssCheckPlacement checks, on the data hosts directly, that every physical
// table holds as many rows as ShardingSphere's actual dataset puts on the
// corresponding data node.
func ssCheckPlacement(t *testing.T, sc ssScenario, actual []*ssTable) {
	t.Helper()
	for _, tb := range actual {
		nodes := make([]string, 0, len(tb.Nodes))
		for dn := range tb.Nodes {
			nodes = append(nodes, dn)
		}
		sort.Strings(nodes)
		for _, dn := range nodes {
			addr, db, phys := sc.physical(dn)
			d := Open(t, DSN("sg", "sg", addr, db))
			var n int
			if err := d.QueryRow("SELECT COUNT(*) FROM " + phys).Scan(&n); err != nil {
				t.Errorf("%s: placement: %s.%s (for ShardingSphere's %s): %v", sc.Name, db, phys, dn, err)
				continue
			}
			if n != tb.Nodes[dn] {
				t.Errorf("%s: placement: %s.%s holds %d rows, ShardingSphere's %s holds %d", sc.Name, db, phys, n, dn, tb.Nodes[dn])
			}
		}
	}
}

// ---------------------------------------------------------------- report

func ssReport(t *testing.T, all []ssCase, applicable []*ssCase, other []string, runs []*ssRunResult, setupNotes []string) {
	byCase := map[*ssCase][]*ssRunResult{}
	counts := map[ssVerdict]int{}
	for _, r := range runs {
		byCase[r.Case] = append(byCase[r.Case], r)
		counts[r.Verdict]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n==== ShardingSphere e2e DQL through shardgate ====\n")
	fmt.Fprintf(&b, "MySQL DQL cases: %d (README: 149); in scenario db or tbl: %d run here; only in other scenarios (not run): %d\n",
		len(all), len(applicable), len(other))
	fmt.Fprintf(&b, "runs (case x scenario x assertion x mode prep/text): %d — pass %d, both-error %d, refused %d, fail %d\n",
		len(runs), counts[ssPass], counts[ssBothError], counts[ssRefused], counts[ssFail])

	// Per case: fail if any run fails, else refused if any is refused, else pass.
	var passed, refusedC, failedC []*ssCase
	refusedWhy := map[string][]string{}
	type failLine struct{ id, text string }
	var fails []failLine
	var unstable, typeNotes, bothErr, orderNotes []string
	for _, c := range applicable {
		rs := byCase[c]
		worst := ssPass
		for _, r := range rs {
			switch {
			case r.Verdict == ssFail:
				worst = ssFail
			case r.Verdict == ssRefused && worst != ssFail:
				worst = ssRefused
			}
			if r.Unstable != "" {
				unstable = append(unstable, fmt.Sprintf("%s: %s", r.key(), r.Unstable))
			}
			if r.TypeNote != "" && r.Verdict == ssPass {
				typeNotes = append(typeNotes, fmt.Sprintf("%s: %s", r.key(), r.TypeNote))
			}
			if r.OrderNote != "" {
				orderNotes = append(orderNotes, fmt.Sprintf("%s@%s: %s", c.ID, r.Scenario, r.OrderNote))
			}
			if r.Verdict == ssBothError {
				bothErr = append(bothErr, fmt.Sprintf("%s: %s", r.key(), r.Reason))
			}
		}
		switch worst {
		case ssPass:
			passed = append(passed, c)
		case ssRefused:
			refusedC = append(refusedC, c)
			seen := map[string]bool{}
			for _, r := range rs {
				if r.Verdict == ssRefused {
					why := strings.TrimPrefix(r.Reason, refusalPrefix+" ")
					if !seen[why] {
						seen[why] = true
						refusedWhy[why] = append(refusedWhy[why], c.ID)
					}
				}
			}
		case ssFail:
			failedC = append(failedC, c)
			var parts []string
			for _, r := range rs {
				if r.Verdict != ssFail {
					continue
				}
				tag := ""
				switch {
				case r.Known != "":
					tag = " [known: " + r.Known + "]"
				case r.Unstable != "":
					tag = " [oracle-unstable]"
				}
				parts = append(parts, fmt.Sprintf("    %s/%s#%d: %s%s", r.Scenario, r.Mode, r.Assertion+1,
					strings.ReplaceAll(r.Reason, "\n", "\n      "), tag))
			}
			fails = append(fails, failLine{c.ID, fmt.Sprintf("  %s  %s\n%s", c.ID, ssOneLine(c.SQL), strings.Join(parts, "\n"))})
		}
	}
	fmt.Fprintf(&b, "CASES: %d considered — passed %d, refused %d, failed %d\n", len(applicable), len(passed), len(refusedC), len(failedC))
	if len(refusedC) > 0 {
		fmt.Fprintf(&b, "refused, by reason (1235 %q ...):\n", refusalPrefix)
		whys := make([]string, 0, len(refusedWhy))
		for w := range refusedWhy {
			whys = append(whys, w)
		}
		sort.Slice(whys, func(i, j int) bool {
			if len(refusedWhy[whys[i]]) != len(refusedWhy[whys[j]]) {
				return len(refusedWhy[whys[i]]) > len(refusedWhy[whys[j]])
			}
			return whys[i] < whys[j]
		})
		for _, w := range whys {
			fmt.Fprintf(&b, "  %2d  %s: %s\n", len(refusedWhy[w]), w, strings.Join(refusedWhy[w], " "))
		}
	}
	if len(fails) > 0 {
		fmt.Fprintf(&b, "failed:\n")
		for _, f := range fails {
			b.WriteString(f.text + "\n")
		}
	}
	if len(bothErr) > 0 {
		fmt.Fprintf(&b, "passed with both the oracle and the proxy failing with the same error code (%d runs):\n  %s\n", len(bothErr), strings.Join(ssDedupe(bothErr), "\n  "))
	}
	if len(typeNotes) > 0 {
		fmt.Fprintf(&b, "passed, but column types differ (not counted as failures; %d runs):\n  %s\n", len(typeNotes), strings.Join(typeNotes, "\n  "))
	}
	if len(orderNotes) > 0 {
		fmt.Fprintf(&b, "ORDER BY compared on a prefix only (the rest of the order is not total or not visible):\n  %s\n", strings.Join(ssDedupe(orderNotes), "\n  "))
	}
	if len(unstable) > 0 {
		fmt.Fprintf(&b, "oracle-unstable runs (the oracle and its shuffled Aria copy disagree; never failing):\n  %s\n", strings.Join(unstable, "\n  "))
	}
	if len(setupNotes) > 0 {
		fmt.Fprintf(&b, "setup notes:\n  %s\n", strings.Join(setupNotes, "\n  "))
	}
	fmt.Fprintf(&b, "not run (MySQL cases of other scenarios only): %s\n", strings.Join(other, ", "))
	t.Log(b.String())
}

func ssOneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

func ssDedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// TestShardingSphereShapes checks the reading of ORDER BY, LIMIT and select
// aliases that the comparison of TestShardingSphereDQL relies on (no servers).
func TestShardingSphereShapes(t *testing.T) {
	for _, c := range []struct {
		sql   string
		cols  []string
		want  []int
		unres string
		limit bool
	}{
		{"SELECT * FROM t_order o ORDER BY o.order_id, 2 DESC", []string{"order_id", "user_id"}, []int{0, 1}, "", false},
		{"SELECT user_id, SUM(order_id) AS orders_sum FROM t_order GROUP BY user_id ORDER BY SUM(order_id) LIMIT ?", []string{"user_id", "orders_sum"}, []int{1}, "", true},
		{"SELECT DATE(i.creation_date) AS creation_date FROM `t_order_item` AS i ORDER BY DATE(i.creation_date) DESC", []string{"creation_date"}, []int{0}, "", false},
		{"SELECT merchant_id, COUNT(1) AS count FROM t_order GROUP BY merchant_id ORDER BY order_id DESC", []string{"merchant_id", "count"}, nil, "order_id", false},
		{"SELECT i.* FROM t_order o JOIN t_order_item i ON o.user_id = i.user_id WHERE o.user_id IN (?, ?) ORDER BY i.item_id DESC LIMIT ?, ?", []string{"item_id", "order_id"}, []int{0}, "", true},
		{"SELECT * FROM t_order WHERE user_id = ? FOR UPDATE", []string{"order_id"}, nil, "", false},
		{"SELECT COUNT(order_id) AS orders_count, user_id FROM t_order GROUP BY 2 ORDER BY 2", []string{"orders_count", "user_id"}, []int{1}, "", false},
		{"select t.*,o.item_id as item_id,(case when t.status = 'init' then 'a' end) as stateName from t_order t left join t_order_item as o on o.order_id =t.order_id where t.order_id=1000 limit 1", []string{"order_id", "item_id", "stateName"}, nil, "", true},
		{"SELECT (SELECT MAX(x) FROM t ORDER BY y LIMIT 1) AS m FROM u", []string{"m"}, nil, "", false},
	} {
		sh := ssShapeOf(c.sql)
		got, unres := ssOrderColumns(sh, c.cols)
		if fmt.Sprint(got) != fmt.Sprint(c.want) || unres != c.unres || sh.limit != c.limit {
			t.Errorf("%s:\n  order columns %v unresolved %q limit %v; want %v %q %v (order by %q, aliases %v)",
				c.sql, got, unres, sh.limit, c.want, c.unres, c.limit, sh.orderBy, sh.selectAlias)
		}
	}
	r := func(rows ...string) result {
		out := result{Cols: []string{"a", "b"}}
		for _, x := range rows {
			out.Rows = append(out.Rows, strings.Split(x, ","))
		}
		return out
	}
	if d, _ := ssCompare(r("1,x", "2,x"), r("2,x", "1,x"), ssShapeOf("SELECT a, b FROM t ORDER BY a DESC")); d == "" {
		t.Errorf("a wrong order on a total ORDER BY passed")
	}
	if d, _ := ssCompare(r("1,x", "2,x"), r("2,x", "1,x"), ssShapeOf("SELECT a, b FROM t ORDER BY b")); d != "" {
		t.Errorf("ties of a non-total ORDER BY failed: %s", d)
	}
	if d, _ := ssCompare(r("1,x", "2,y"), r("2,x", "1,y"), ssShapeOf("SELECT a, b FROM t ORDER BY b")); d == "" {
		t.Errorf("different rows passed")
	}
	if d, _ := ssCompare(r("1,x", "2,x"), r("1,x"), ssShapeOf("SELECT a, b FROM t")); d == "" {
		t.Errorf("an extra row passed")
	}
	for _, c := range []struct{ sql, want string }{
		{"SELECT * FROM t WHERE a = ? AND b = ? /* ? */ AND c = '?'", "SELECT * FROM t WHERE a = 10 AND b = 'it''s' /* ? */ AND c = '?'"},
	} {
		got, err := ssInterpolate(c.sql, []ssParam{{int64(10), "int"}, {"it's", "String"}})
		if want := strings.Replace(c.want, "'it''s'", `'it\'s'`, 1); err != nil || got != want {
			t.Errorf("ssInterpolate(%q) = %q, %v; want %q", c.sql, got, err, want)
		}
	}
}
