package session

import (
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/merge"
)

// proxyReadVars are the variables the proxy itself reads to merge or time
// a statement (MariaDB refuses the client's charsets in SET STATEMENT; the
// server says so). Not sql_mode: the statement is parsed before the
// assignments take effect, on one server too.
var proxyReadVars = map[string]bool{
	"character_set_client": true, "character_set_connection": true, "character_set_results": true,
	"collation_connection": true, "div_precision_increment": true, "group_concat_max_len": true,
	"sql_select_limit": true, "timestamp": true,
}

// oneShotVars give the next INSERT its ids or RAND() its seed: over
// several shards, or with ids the proxy generates, they would not do
// what one server does.
var oneShotVars = map[string]bool{"insert_id": true, "last_insert_id": true, "identity": true, "rand_seed1": true, "rand_seed2": true}

// setStatement answers MariaDB's SET STATEMENT a = x, ... FOR stmt in a
// sharded schema. One server sets the variables for the statement alone;
// the proxy runs stmt as any other statement under them (enterSetStatement).
func (s *Session) setStatement(sql string, snap *snapshot.Snapshot) error {
	st, sum, e := splitSetStatement(sql)
	if e != nil {
		return s.writeErr(e)
	}
	leave, err := s.enterSetStatement(st, snap)
	if err != nil {
		return s.handleExecErr(err)
	}
	defer leave()
	return s.shardedStatement(st.Stmt, sum, snap, nil)
}

// splitSetStatement reads a SET STATEMENT and its statement's summary, or
// says what shardgate does not support in it.
func splitSetStatement(sql string) (parser.SetStatement, *parser.Summary, *mysql.MyError) {
	st, ok := parser.SplitSetStatement(sql)
	if !ok {
		return st, nil, unsupported("this SET STATEMENT in a sharded schema: shardgate reads SET STATEMENT name = value [, name = value ...] FOR statement")
	}
	sum := new(parser.Summary)
	parser.ScanOne(st.Stmt, sum)
	if sum.Kind == parser.KindSet && sum.Second == "STATEMENT" {
		// (MariaDB takes the inner one's assignments alone, once it has
		// looked the outer one's names up.)
		return st, nil, unsupported("SET STATEMENT inside another in a sharded schema")
	}
	switch sum.Kind {
	case parser.KindSelect, parser.KindInsert, parser.KindReplace, parser.KindUpdate, parser.KindDelete,
		parser.KindSet, parser.KindDo, parser.KindCall:
	default:
		return st, nil, unsupported("SET STATEMENT ... FOR " + strings.ToUpper(sum.Kind.String()) + " in a sharded schema: run the statement without it")
	}
	for _, name := range st.Names {
		if oneShotVars[name] {
			return st, nil, unsupported("SET STATEMENT " + name + " in a sharded schema: the statement's shards would each take it")
		}
	}
	return st, sum, nil
}

// enterSetStatement puts a SET STATEMENT's variables in force for its
// statement, and returns what ends that: the variables the proxy reads
// itself (proxyReadVars) become the session's for the while, their values
// read from a server under the whole SET STATEMENT (which checks every
// assignment, as the statement would); the others go before each
// statement the proxy sends for it (exec.Client.StmtVars, which
// statements forwarded whole and prepared ones take too).
func (s *Session) enterSetStatement(st parser.SetStatement, snap *snapshot.Snapshot) (leave func(), err error) {
	var own, others []string
	for i, name := range st.Names {
		if proxyReadVars[name] {
			own = append(own, name)
		} else {
			others = append(others, st.Assigns[i])
		}
	}
	restore := func() {}
	if len(own) > 0 {
		vars, err := s.statementVars(strings.Join(st.Assigns, ", "), own, snap)
		if err != nil {
			return nil, err
		}
		restore = s.withVars(vars)
	}
	s.cli.StmtVars, s.stmtVarNames = strings.Join(others, ", "), st.Names
	return func() {
		s.cli.StmtVars, s.stmtVarNames = "", nil
		restore()
	}, nil
}

// withStmtVars prefixes a statement sent whole with the running SET
// STATEMENT's assignments (enterSetStatement).
func (s *Session) withStmtVars(sql string) string {
	if s.cli.StmtVars == "" {
		return sql
	}
	return "SET STATEMENT " + s.cli.StmtVars + " FOR " + sql
}

// statementVars reads the values the named variables take under a SET
// STATEMENT's assignments, on the schema's default node.
func (s *Session) statementVars(assigns string, names []string, snap *snapshot.Snapshot) ([]backend.Var, error) {
	stmt, err := s.parseOne("SELECT @@SESSION." + strings.Join(names, ", @@SESSION."))
	if err != nil {
		return nil, err
	}
	plan, err := router.Build(stmt, s.routerEnv(snap))
	if err != nil {
		return nil, err
	}
	s.cli.StmtVars = assigns
	defer func() { s.cli.StmtVars = "" }()
	vars := make([]backend.Var, 0, len(names))
	_, err = s.collect(plan, func(_ []merge.Field, vals [][]byte) (bool, error) {
		for i, name := range names {
			v := "NULL"
			if vals[i] != nil {
				v = string(vals[i])
			}
			vars = append(vars, backend.Var{Name: name, Value: v})
		}
		return false, nil
	})
	return vars, err
}

// inStatementVars reports a variable the running SET STATEMENT sets: the
// server reports it changed when it restores it, which changes nothing.
func (s *Session) inStatementVars(name string) bool {
	return s.stmtVarNames != nil && slices.Contains(s.stmtVarNames, name)
}
