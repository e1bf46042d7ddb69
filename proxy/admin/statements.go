package admin

import (
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// help is what HELP shows: every statement, its aliases, what it does.
var help = [][3]string{
	{"HELP", "SHOW HELP, show @@help", "this list (the mariadb client answers HELP itself: use SHOW HELP there)"},
	{"SHOW DATA HOSTS", "show @@datahost", "data hosts: primary, replicas, balance, failover, failovers"},
	{"SHOW SERVERS", "show @@datasource", "servers: role, state, replica lag, pool open/idle/max, qps, statements, errors, last error"},
	{"SHOW DATA NODES", "show @@datanode", "data nodes: data host, database, primary, schemas, physical tables placed there"},
	{"SHOW HEARTBEATS", "show @@heartbeat", "health checks: last successful check, lag, applied GTIDs, last error"},
	{"SHOW SESSIONS", "show @@connection", "client sessions: id, user, host, schema, state, time, running statement"},
	{"SHOW BACKENDS", "show @@backend", "backend connections: server, thread id, idle or in use by which session"},
	{"SHOW SQL STATS", "show @@sql", "per statement fingerprint: count, errors, rows, total/avg/p99/max time, shards"},
	{"SHOW SLOW QUERIES", "show @@sql.slow", "statements slower than slow_query (latest first)"},
	{"SHOW RULES [IN schema]", "show @@rule", "table rules of every (or one) schema"},
	{"SHOW TABLE LAYOUT [schema.]t [IN schema]", "", "physical tables of a logical table: shard, node, host, database, exists, rows"},
	{"SHOW CONFIG VERSIONS", "", "recorded config versions, the running one marked"},
	{"SHOW STATUS", "show @@server", "uptime, sessions, statements, slow queries, config version, ..."},
	{"SHOW VERSION", "show @@version", "shardgate and backend versions"},
	{"SHOW CLUSTER NODES", "show @@cluster", "cluster mode: the live shardgate nodes (address, version, config version, sessions, worker id, leader)"},
	{"RELOAD CONFIG [FORCE]", "reload @@config, reload @@config_all", "re-read the config file, validate, swap; unchanged data hosts keep their pools"},
	{"ROLLBACK CONFIG [TO n] [FORCE]", "", "return to config version n (default: the one before); written to the file"},
	{"SWITCH PRIMARY dh TO 'addr'", "switch @@datasource dh:addr (or dh:index)", "planned switch of a data host's primary"},
	{"SET SERVER 'addr' OFFLINE | ONLINE", "", "take a replica out of service (pool drained) or back"},
	{"KILL SESSION n [, n...]", "kill @@connection n[, n...]", "close client sessions, stopping their statements"},
	{"RESET SQL STATS", "clear @@sql", "forget the fingerprint statistics and slow queries"},
	{"[DRY RUN] CREATE SHARDING TABLE RULE t (COLUMN=c, ALGORITHM=mod, SHARDS=n, NODES=(dn0,dn1)[, OPTIONS=(k=v,...)][, NO_SCATTER=true]) [IN schema] [FORCE] [AS CREATE TABLE ...]", "", "add a sharded table rule"},
	{"[DRY RUN] CREATE GLOBAL TABLE RULE t [IN schema]", "", "add a global table rule (a copy on every node)"},
	{"[DRY RUN] CREATE CHILD TABLE RULE t (PARENT=p, COLUMN=c, PARENT_COLUMN=pc) [IN schema]", "", "add an ER child table rule"},
	{"[DRY RUN] CREATE SINGLE TABLE RULE t (NODE=dn) [IN schema]", "", "add a single-node table rule"},
	{"[DRY RUN] ALTER {SHARDING|GLOBAL|CHILD|SINGLE} TABLE RULE t (...) [IN schema] [FORCE]", "", "change a rule (keys left out are kept when the kind stays)"},
	{"[DRY RUN] DROP [SHARDING|GLOBAL|CHILD|SINGLE] TABLE RULE [IF EXISTS] t [IN schema] [FORCE]", "", "remove a rule: the table falls back to the default node"},
	{"CHECK GLOBAL TABLE [schema.]t [IN schema]", "", "compare a global table's copies (CHECKSUM TABLE per node)"},
	{"CHECK TABLE STRUCTURE [schema.]t [IN schema]", "", "compare a table's physical structure (SHOW CREATE TABLE) across its shards"},
}

// execute runs one admin statement.
func (c *Console) execute(cn *conn, sql string) (*result, error) {
	t := tokenize(sql)
	if t.done() {
		return nil, mysql.NewDefaultError(mysql.ER_EMPTY_QUERY)
	}
	switch t.peek() {
	case "HELP":
		t.i++
		return c.help(), t.end()
	case "SHOW":
		t.i++
		return c.show(t)
	case "RELOAD":
		t.i++
		if !t.accept("CONFIG") && !t.accept("@@CONFIG") && !t.accept("@@CONFIG_ALL") {
			return nil, t.errorf("RELOAD CONFIG expected")
		}
		force := t.accept("FORCE")
		if err := t.end(); err != nil {
			return nil, err
		}
		return c.reload(cn, sql, force)
	case "ROLLBACK":
		t.i++
		if !t.accept("CONFIG") {
			return nil, t.errorf("ROLLBACK CONFIG [TO n] expected")
		}
		n := 0
		if t.accept("TO") {
			v, err := t.value("version number")
			if err != nil {
				return nil, err
			}
			if n, err = strconv.Atoi(v); err != nil || n <= 0 {
				return nil, t.errorf("version number expected")
			}
		}
		force := t.accept("FORCE")
		if err := t.end(); err != nil {
			return nil, err
		}
		return c.rollback(cn, n, sql, force)
	case "SWITCH":
		t.i++
		return c.switchPrimary(t)
	case "KILL":
		t.i++
		return c.kill(t)
	case "RESET", "CLEAR":
		t.i++
		if !t.accept("SQL", "STATS") && !t.accept("@@SQL") && !t.accept("@@SQL.SLOW") && !t.accept("SLOW", "QUERIES") {
			return nil, t.errorf("RESET SQL STATS expected")
		}
		if err := t.end(); err != nil {
			return nil, err
		}
		if c.stats != nil {
			c.stats.Reset()
		}
		return okResult("SQL statistics and slow queries cleared"), nil
	case "SET":
		t.i++
		if t.accept("SERVER") {
			return c.setServer(t)
		}
		// SET NAMES, SET autocommit... from client libraries: nothing to do.
		return okResult(""), nil
	case "USE", "BEGIN", "COMMIT":
		return okResult(""), nil
	case "SELECT":
		return c.selectVars(t)
	case "CHECK":
		t.i++
		return c.check(t)
	case "DRY", "CREATE", "ALTER", "DROP":
		return c.editRule(cn, t, sql)
	}
	return nil, t.errorf("unknown admin statement")
}

func (c *Console) help() *result {
	r := &result{cols: cols("statement", "alias", "description")}
	for _, h := range help {
		var alias any
		if h[1] != "" {
			alias = h[1]
		}
		r.rows = append(r.rows, []any{h[0], alias, h[2]})
	}
	return r
}

func (c *Console) show(t *tokens) (*result, error) {
	type shower func(t *tokens) (*result, error)
	noArgs := func(f func() (*result, error)) shower {
		return func(t *tokens) (*result, error) {
			if err := t.end(); err != nil {
				return nil, err
			}
			return f()
		}
	}
	for _, s := range []struct {
		words [][]string
		fn    shower
	}{
		{[][]string{{"DATA", "HOSTS"}, {"DATAHOSTS"}, {"@@DATAHOST"}, {"@@DATAHOSTS"}}, noArgs(c.showDataHosts)},
		{[][]string{{"SERVERS"}, {"@@DATASOURCE"}, {"DATASOURCES"}}, noArgs(c.showServers)},
		{[][]string{{"DATA", "NODES"}, {"DATANODES"}, {"@@DATANODE"}}, noArgs(c.showDataNodes)},
		{[][]string{{"HEARTBEATS"}, {"HEARTBEAT"}, {"@@HEARTBEAT"}}, noArgs(c.showHeartbeats)},
		{[][]string{{"SESSIONS"}, {"@@CONNECTION"}, {"CONNECTIONS"}}, noArgs(c.showSessions)},
		{[][]string{{"BACKENDS"}, {"@@BACKEND"}, {"BACKEND", "CONNECTIONS"}}, noArgs(c.showBackends)},
		{[][]string{{"SQL", "STATS"}, {"@@SQL"}}, noArgs(c.showSQLStats)},
		{[][]string{{"SLOW", "QUERIES"}, {"@@SQL.SLOW"}}, noArgs(c.showSlow)},
		{[][]string{{"RULES"}, {"@@RULE"}, {"TABLE", "RULES"}, {"SHARDING", "TABLE", "RULES"}}, c.showRules},
		{[][]string{{"TABLE", "LAYOUT"}}, c.showLayout},
		{[][]string{{"CONFIG", "VERSIONS"}}, noArgs(c.showVersions)},
		{[][]string{{"CLUSTER", "NODES"}, {"@@CLUSTER"}}, noArgs(c.showClusterNodes)},
		{[][]string{{"STATUS"}, {"@@SERVER"}}, noArgs(c.showStatus)},
		{[][]string{{"VERSION"}, {"@@VERSION"}}, noArgs(c.showVersion)},
		{[][]string{{"@@HELP"}, {"HELP"}}, noArgs(func() (*result, error) { return c.help(), nil })},
	} {
		for _, w := range s.words {
			if t.accept(w...) {
				return s.fn(t)
			}
		}
	}
	return nil, t.errorf("unknown SHOW statement")
}

// schemaArg reads an optional IN|FROM schema.
func schemaArg(t *tokens) (string, error) {
	if _, ok := t.acceptAny("IN", "FROM"); ok {
		return t.name("schema name")
	}
	return "", nil
}

// selectVars answers what client libraries ask at connect (SELECT
// @@version_comment LIMIT 1, SELECT DATABASE(), ...).
func (c *Console) selectVars(t *tokens) (*result, error) {
	rest := t.rest()
	lower := strings.ToLower(rest)
	r := &result{}
	for _, item := range strings.Split(strings.TrimPrefix(strings.Split(lower, " limit ")[0], "select"), ",") {
		item = strings.TrimSpace(item)
		var v any
		switch item {
		case "@@version_comment":
			v = "shardgate admin console"
		case "@@version":
			v = c.serverVersion()
		case "database()", "schema()":
			v = nil
		case "1":
			v = "1"
		case "user()", "current_user()":
			v = "admin"
		case "@@max_allowed_packet":
			v = strconv.Itoa(c.holder.Load().Conf.MaxAllowedPacket)
		case "connection_id()":
			v = "0"
		default:
			if !strings.HasPrefix(item, "@@") {
				return nil, errf("admin console: not an admin statement: %s (HELP lists them)", oneLine(rest))
			}
			v = nil
		}
		r.cols = append(r.cols, col{name: item})
		if len(r.rows) == 0 {
			r.rows = [][]any{nil}
		}
		r.rows[0] = append(r.rows[0], v)
	}
	return r, nil
}
