package session

import (
	"context"
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/proxy/exec"
	"github.com/shardgate/shardgate/proxy/sequence"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/shardrules"
)

// Generated ids: a table with auto_increment in its rule gets its ids from
// the proxy (proxy/sequence), as AUTO_INCREMENT would give them: an INSERT
// that leaves the column out, or gives NULL, DEFAULT or 0 (unless sql_mode
// has NO_AUTO_VALUE_ON_ZERO), gets the next ids; LAST_INSERT_ID() and the
// OK packet then tell the first.

// fillIDs puts generated ids into an INSERT that lacks them and returns
// the first (0: none generated).
func (s *Session) fillIDs(stmt ast.StmtNode, snap *snapshot.Snapshot) (uint64, error) {
	s.cli.IDs = nil
	seq, idx, need, err := s.idRequests(stmt, snap)
	if err != nil || seq == nil {
		return 0, err
	}
	ins := stmt.(*ast.InsertStmt)
	if ins.Select != nil {
		// The rows the proxy copies ask as they come (exec.IDSource).
		s.cli.IDs = &exec.IDSource{Column: idx, Asks: s.asksForIDText, Next: func() (uint64, error) {
			ids, err := seq.Reserve(context.Background(), 1, s.idBuf[:0])
			if err != nil {
				return 0, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: cannot generate ids for "+seq.Table+": "+err.Error())
			}
			s.idBuf = ids
			return ids[0], nil
		}}
		return 0, nil
	}
	if len(need) == 0 {
		return 0, nil
	}
	ids, err := seq.Reserve(context.Background(), len(need), s.idBuf[:0])
	if err != nil {
		return 0, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: cannot generate ids for "+seq.Table+": "+err.Error())
	}
	s.idBuf = ids
	if idx < 0 {
		ins.Columns = append(ins.Columns, &ast.ColumnName{Name: ast.NewCIStr(seq.Column)})
	}
	for k, i := range need {
		v := ast.NewValueExpr(ids[k], "", "")
		if idx < 0 {
			ins.Lists[i] = append(ins.Lists[i], v)
		} else {
			ins.Lists[i][idx] = v
		}
	}
	return ids[0], nil
}

// idRequests finds the rows of an INSERT that ask for a generated id
// (need) and where the id column stands among the values (idx, -1: left
// out); seq is nil when the table has no ids generated.
func (s *Session) idRequests(stmt ast.StmtNode, snap *snapshot.Snapshot) (seq *sequence.Sequence, idx int, need []int, err error) {
	if seq = s.insertSequence(stmt, snap); seq == nil {
		return nil, -1, nil, nil
	}
	ins := stmt.(*ast.InsertStmt)
	if idx, err = s.valueIndex(ins, snap, seq.Schema, seq.Table, seq.Column); err != nil {
		return nil, -1, nil, err
	}
	if ins.Select != nil {
		if idx < 0 {
			return nil, -1, nil, unsupported("INSERT ... SELECT into " + seq.Table + ", whose ids shardgate generates, without the id column: give the ids, or insert with VALUES")
		}
		return seq, idx, nil, nil // the SELECT gives the ids
	}
	for i, row := range ins.Lists {
		if idx < 0 || idx < len(row) && s.generates(row[idx]) {
			need = append(need, i)
		}
	}
	return seq, idx, need, nil
}

// valueIndex is where column stands among an INSERT's values: in its
// column list, or the table's columns when it has none (-1: left out).
func (s *Session) valueIndex(ins *ast.InsertStmt, snap *snapshot.Snapshot, schema, table, column string) (int, error) {
	if len(ins.Columns) > 0 {
		return slices.IndexFunc(ins.Columns, func(c *ast.ColumnName) bool { return strings.EqualFold(c.Name.O, column) }), nil
	}
	all, err := s.tableColumns(snap, schema, table)
	if err != nil {
		return -1, err
	}
	return slices.IndexFunc(all, func(c string) bool { return strings.EqualFold(c, column) }), nil
}

// insertSequence returns the sequence of the table an INSERT writes, nil
// when it has none (or stmt is no INSERT).
func (s *Session) insertSequence(stmt ast.StmtNode, snap *snapshot.Snapshot) *sequence.Sequence {
	if s.env.Seqs == nil {
		return nil
	}
	schema, _, rule := s.insertRule(stmt, snap)
	if rule == nil {
		return nil
	}
	return s.env.Seqs.Get(schema, rule.Name)
}

// insertRule finds the logical table an INSERT writes: its schema, the
// schema's rules and the table's (nil rule: no INSERT, or no such table).
func (s *Session) insertRule(stmt ast.StmtNode, snap *snapshot.Snapshot) (string, *shardrules.SchemaRules, *shardrules.TableRule) {
	ins, ok := stmt.(*ast.InsertStmt)
	if !ok || ins.Table == nil {
		return "", nil, nil
	}
	ts, ok := ins.Table.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return "", nil, nil
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return "", nil, nil
	}
	schema := tn.Schema.O
	if schema == "" {
		schema = s.logicalDB()
	}
	rules := snap.Rules[schema]
	if rules == nil {
		return "", nil, nil
	}
	return schema, rules, rules.Lookup(tn.Name.O)
}

// generates reports whether a value given for the id column asks for a
// generated one: NULL, DEFAULT, or 0 unless NO_AUTO_VALUE_ON_ZERO.
func (s *Session) generates(e ast.ExprNode) bool {
	var d *test_driver.Datum
	switch x := e.(type) {
	case *ast.DefaultExpr:
		return x.Name == nil
	case *test_driver.ValueExpr:
		d = &x.Datum
	case *test_driver.ParamMarkerExpr:
		d = &x.Datum
	default:
		return false
	}
	return s.asksForID(d.GetValue())
}

// asksForID reports whether a value given for the id column asks for a
// generated one: NULL, or 0 unless NO_AUTO_VALUE_ON_ZERO.
func (s *Session) asksForID(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case int64:
		return v == 0 && !s.noAutoValueOnZero()
	case uint64:
		return v == 0 && !s.noAutoValueOnZero()
	}
	return false
}

// asksForIDText is asksForID for a value as a result prints it (nil:
// NULL): a row an INSERT ... SELECT copies.
func (s *Session) asksForIDText(v []byte) bool {
	return v == nil || string(v) == "0" && !s.noAutoValueOnZero()
}

// idMarkers returns the ranks of the parameter markers that give an
// INSERT's id column (the idx-th of its values) in each of its rows; nil
// when a row gives it otherwise or leaves it out, or the INSERT has no
// VALUES rows: then ids may be generated whatever the values.
func idMarkers(ins *ast.InsertStmt, idx int) []int {
	if idx < 0 || ins.Select != nil || len(ins.Lists) == 0 {
		return nil
	}
	ranks := markerRanks(ins)
	out := make([]int, 0, len(ins.Lists))
	for _, row := range ins.Lists {
		if idx >= len(row) {
			return nil
		}
		m, ok := row[idx].(*test_driver.ParamMarkerExpr)
		if !ok {
			return nil
		}
		out = append(out, ranks[m.Offset])
	}
	return out
}

// givesIDs reports whether an execution's values give every id an
// INSERT's template takes from its literals (ids, see
// router.Template.IDParams): one that asks for a generated id (NULL, 0)
// or cannot be read sends the execution the slow way, which generates
// it. value returns literal or parameter i's value.
func (s *Session) givesIDs(ids []int, value func(i int) (any, bool)) bool {
	for _, i := range ids {
		if v, ok := value(i); !ok || s.asksForID(v) {
			return false
		}
	}
	return true
}

func (s *Session) noAutoValueOnZero() bool {
	mode, ok := s.vars.Var("sql_mode")
	if !ok {
		if info := s.env.Snap.Load().Info; info != nil {
			mode = info.SQLMode
		}
	}
	return strings.Contains(strings.ToUpper(mode), "NO_AUTO_VALUE_ON_ZERO")
}
