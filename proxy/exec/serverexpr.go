package exec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/merge"
)

// serverEval computes a plan's router.ServerExpr columns on a server: it
// reads every merged row first (the shards' connections are then free,
// a transaction's too), writes each row's expressions with its values as
// literals into SELECTs of many columns, and gives the rows back with
// the servers' answers in those columns.
type serverEval struct {
	in    merge.Stream
	exprs map[int]*router.ServerExpr // by output column
	conns Conns
	node  string // where the SELECTs run

	rows [][]byte
	next int
	read bool
	err  error
}

// serverEvalBatch is how many expressions one SELECT computes.
const serverEvalBatch = 256

// maxServerEvalBytes bounds the rows serverEval holds.
const maxServerEvalBytes = 64 << 20

func (s *serverEval) Fields() []merge.Field { return s.in.Fields() }
func (s *serverEval) Binary() bool          { return false }
func (s *serverEval) Close()                { s.in.Close() }

func (s *serverEval) Next() (merge.Row, error) {
	if !s.read {
		s.read = true
		s.err = s.evaluate()
	}
	if s.err != nil || s.next >= len(s.rows) {
		return nil, s.err
	}
	s.next++
	return s.rows[s.next-1], nil
}

// evaluate reads the rows and computes their expressions.
func (s *serverEval) evaluate() error {
	if s.in.Binary() {
		return mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: expressions computed after the merge got binary rows")
	}
	fields := s.in.Fields()
	var vals [][][]byte // each row's column contents (nil: NULL)
	held := 0
	for {
		row, err := s.in.Next()
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		if held += len(row); held > maxServerEvalBytes || len(vals) >= MaxMemorySortRows {
			return mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, fmt.Sprintf("shardgate does not support expressions over aggregates evaluated after merging shards on more than %d groups or %d MiB", MaxMemorySortRows, maxServerEvalBytes>>20))
		}
		row = slices.Clone(row)
		v := make([][]byte, len(fields))
		if err := textValues(row, v); err != nil {
			return err
		}
		vals = append(vals, v)
	}
	// Each expression's column and its arguments' columns (and their
	// collations' helper columns), resolved once.
	type computed struct {
		col         int
		e           *router.ServerExpr
		args, colls []int
	}
	var exprs []computed
	for c, e := range s.exprs {
		x := computed{col: c, e: e}
		for _, ac := range e.ArgCols() {
			x.args = append(x.args, ac.Resolve(len(fields)))
		}
		for _, cc := range e.CollCols() {
			i := -1 // (a number's)
			if cc.Index >= 0 {
				i = cc.Resolve(len(fields))
			}
			x.colls = append(x.colls, i)
		}
		exprs = append(exprs, x)
	}
	slices.SortFunc(exprs, func(a, b computed) int { return a.col - b.col })
	var args [][2]int // each argument's column and its collation's
	for _, x := range exprs {
		for k, i := range x.args {
			if x.colls[k] >= 0 {
				args = append(args, [2]int{i, x.colls[k]})
			}
		}
	}
	defaults, err := s.defaultCollations(vals, fields, args)
	if err != nil {
		return err
	}
	// The expressions, row by row, then their answers in the same order.
	var texts, lits, colls []string
	var named []bool
	for _, v := range vals {
		for _, x := range exprs {
			lits, colls, named = lits[:0], colls[:0], named[:0]
			for k, i := range x.args {
				coll := ""
				if c := x.colls[k]; c >= 0 {
					coll = string(v[c])
				}
				f := fields[i]
				f.Name = x.e.Names[k] // (the shards name it as a helper)
				lit, err := router.ServerArgLiteral(&f, v[i], v[i] == nil, x.e.Mode, x.e.Results, coll, defaults[coll])
				if err != nil {
					return err
				}
				lits = append(lits, lit)
				if router.TakesCollation(&fields[i], v[i] == nil) {
					colls, named = append(colls, coll), append(named, !defaults[coll])
				}
			}
			if err := x.e.CheckDerivation(colls, named); err != nil {
				return err
			}
			texts = append(texts, x.e.Text(lits))
		}
	}
	answers := make([][]byte, 0, len(texts))
	for start := 0; start < len(texts); start += serverEvalBatch {
		batch := texts[start:min(start+serverEvalBatch, len(texts))]
		if err := s.query(batch, &answers); err != nil {
			return err
		}
	}
	s.rows = make([][]byte, len(vals))
	k := 0
	for r, v := range vals {
		for _, x := range exprs {
			v[x.col] = answers[k]
			k++
		}
		s.rows[r] = AppendTextRow(nil, v)
	}
	return nil
}

// defaultCollations tells, for the collations of the string arguments
// (args: each one's column and its COLLATION() helper's), which are their
// character set's default: asked of the server in one SELECT.
func (s *serverEval) defaultCollations(vals [][][]byte, fields []merge.Field, args [][2]int) (map[string]bool, error) {
	defaults := map[string]bool{}
	var charsets []string
	for _, v := range vals {
		for _, a := range args {
			arg, coll := a[0], a[1]
			if !router.TakesCollation(&fields[arg], v[arg] == nil) {
				continue
			}
			name := string(v[coll])
			if _, seen := defaults[name]; seen {
				continue
			}
			defaults[name] = false
			if cs, _, _ := strings.Cut(name, "_"); router.PlainName(cs) && !slices.Contains(charsets, cs) {
				charsets = append(charsets, cs)
			}
		}
	}
	if len(charsets) == 0 {
		return defaults, nil
	}
	var answers [][]byte
	if err := s.query([]string{strings.TrimPrefix(router.DefaultCollationSQL(charsets), "SELECT ")}, &answers); err != nil {
		return nil, err
	}
	for _, a := range answers {
		if _, ok := defaults[string(a)]; ok {
			defaults[string(a)] = true
		}
	}
	return defaults, nil
}

// query computes a batch of expressions in one SELECT.
func (s *serverEval) query(batch []string, answers *[][]byte) error {
	c, err := s.conns.Acquire(s.node)
	if err != nil {
		return err
	}
	got := false
	err = c.Query("SELECT "+strings.Join(batch, ", "), func(_ []wire.ColumnRef, v [][]byte) error {
		for _, x := range v {
			if x != nil {
				x = slices.Clone(x)
				if x == nil {
					x = []byte{}
				}
			}
			*answers = append(*answers, x)
		}
		got = true
		return nil
	}, nil)
	s.conns.Release(c, c.Broken())
	if err == nil && !got {
		err = mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: the expressions' SELECT gave no row")
	}
	return err
}
