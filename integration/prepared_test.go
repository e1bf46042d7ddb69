//go:build integration

package integration

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/parser"
)

// parameterize turns the literals a query compares columns with into
// placeholders, so a query shape can run as a prepared statement with the
// same meaning: numbers and strings after a comparison, in IN lists and
// BETWEEN bounds. LIMIT counts and ORDER BY positions stay literals.
func parameterize(q string) (string, []any) {
	l := parser.NewLexer(q)
	var out strings.Builder
	var args []any
	last := 0
	var prev parser.Token
	inList := 0
	for {
		t := l.Next()
		if t.Kind == parser.TokEOF {
			break
		}
		text := l.Text(t)
		if t.Kind == parser.TokOp && text == "(" && prev.Kind == parser.TokIdent && parser.EqualFold(l.Text(prev), "IN") {
			inList++
		} else if t.Kind == parser.TokOp && text == ")" && inList > 0 {
			inList--
		}
		// Adjacent strings are one string ('a' 'b' is 'ab'): kept as written.
		peek := l
		adjacent := t.Kind == parser.TokString && (prev.Kind == parser.TokString || peek.Next().Kind == parser.TokString)
		bind := false
		if (t.Kind == parser.TokNumber || t.Kind == parser.TokString) && !adjacent && !strings.HasPrefix(strings.ToLower(text), "x'") && !strings.HasPrefix(strings.ToLower(text), "b'") && !strings.HasPrefix(text, "0x") {
			switch {
			case inList > 0:
				bind = true
			case prev.Kind == parser.TokOp:
				switch l.Text(prev) {
				case "=", "<", ">", "<=", ">=", "<>", "!=":
					bind = true
				}
			case prev.Kind == parser.TokIdent:
				w := strings.ToUpper(l.Text(prev))
				bind = w == "BETWEEN" || (w == "AND" && strings.Contains(strings.ToUpper(q[:t.Start]), "BETWEEN"))
			}
		}
		if bind {
			out.WriteString(q[last:t.Start])
			out.WriteString("?")
			last = t.End
			if t.Kind == parser.TokString {
				args = append(args, parser.UnquoteString(text))
			} else {
				args = append(args, text)
			}
		}
		prev = t
	}
	out.WriteString(q[last:])
	return out.String(), args
}

// runPrepared runs a query with arguments, as a prepared statement.
func runPrepared(q queryer, query string, args []any) result {
	return runPreparedN(q, query, args, 1)
}

// runPreparedN executes one prepared statement n times with the same
// arguments and returns the last result (a later execution may be planned
// another way than the first: see stmt.spread).
func runPreparedN(q queryer, query string, args []any, n int) result {
	sets := make([][]any, n)
	for i := range sets {
		sets[i] = args
	}
	return runPreparedSeq(q, query, sets...)
}

// runPreparedSeq executes one prepared statement with each set of
// arguments in turn and returns the last result.
func runPreparedSeq(q queryer, query string, sets ...[]any) result {
	stmtQ, ok := q.(interface {
		PrepareContext(context.Context, string) (*sql.Stmt, error)
	})
	if !ok {
		return result{}
	}
	st, err := stmtQ.PrepareContext(context.Background(), query)
	if err != nil {
		return result{Err: err}
	}
	defer st.Close()
	var r result
	for _, args := range sets {
		if r = runQuery(stmtQuerier{st}, "", args...); r.Err != nil {
			break
		}
	}
	return r
}

// movedArgs is movedLiterals for the arguments of parameterize: k added to
// each integer, or with k < 0 each non-number upper-cased and padded.
func movedArgs(args []any, k int) ([]any, bool) {
	out := make([]any, len(args))
	moved := false
	for i, a := range args {
		out[i] = a
		text, _ := a.(string)
		if k > 0 {
			if n, err := strconv.Atoi(text); err == nil {
				out[i], moved = strconv.Itoa(n+k), true
			}
		} else if _, err := strconv.ParseFloat(text, 64); err != nil && !strings.ContainsAny(text, "\\%_") {
			out[i], moved = strings.ToUpper(text)+" ", true
		}
	}
	return out, moved
}

type stmtQuerier struct{ st *sql.Stmt }

func (s stmtQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return s.st.QueryContext(ctx, args...)
}

func (s stmtQuerier) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return s.st.ExecContext(ctx, args...)
}

// runPreparedShapes runs every query shape with literals as parameters,
// through the proxy and on the oracle, and compares.
func runPreparedShapes(t *testing.T, queries []queryCase, proxy, oracle queryer) tally {
	var qt tally
	for _, q := range queries {
		if q.Error || q.Meta && !strings.HasPrefix(strings.ToUpper(q.SQL), "SELECT") {
			continue // a SHOW the proxy answers is not prepared (1295)
		}
		sqlText, args := parameterize(q.SQL)
		if len(args) == 0 {
			continue
		}
		t.Run(q.ID, func(t *testing.T) {
			got, want := runPrepared(proxy, sqlText, args), runPrepared(oracle, sqlText, args)
			v, why := judge(q, got, want)
			if v == passed {
				// Again, three executions of one statement: the later ones
				// are planned as the first one's plan suggests.
				v, why = judge(q, runPreparedN(proxy, sqlText, args, 3), want)
			}
			// Then the same statement with other values (see
			// literal-variants): planned from the first execution's
			// template where they fit it.
			for _, k := range []int{1, 3, -1} {
				moved, ok := movedArgs(args, k)
				if v != passed || !ok {
					continue
				}
				want := runPrepared(oracle, sqlText, moved)
				vq := q
				vq.Error, vq.AnyMessage = want.Err != nil, true
				if v2, why2 := judge(vq, runPreparedSeq(proxy, sqlText, args, moved), want); v2 == failed {
					t.Errorf("%s prepared, executed again with other values\n  SQL: %s\n  args: %v, then %v\n  %s", q.ID, sqlText, args, moved, why2)
				}
			}
			qt.add(q.ID, v)
			if v == failed {
				t.Errorf("%s prepared\n  SQL: %s\n  args: %v\n  %s", q.ID, sqlText, args, why)
			}
		})
	}
	return qt
}
