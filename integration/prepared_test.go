//go:build integration

package integration

import (
	"context"
	"database/sql"
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
		bind := false
		if (t.Kind == parser.TokNumber || t.Kind == parser.TokString) && !strings.HasPrefix(strings.ToLower(text), "x'") && !strings.HasPrefix(strings.ToLower(text), "b'") && !strings.HasPrefix(text, "0x") {
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
	for i := 0; i < n; i++ {
		if r = runQuery(stmtQuerier{st}, "", args...); r.Err != nil {
			break
		}
	}
	return r
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
		if q.Meta || q.Error {
			continue
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
			qt.add(q.ID, v)
			if v == failed {
				t.Errorf("%s prepared\n  SQL: %s\n  args: %v\n  %s", q.ID, sqlText, args, why)
			}
		})
	}
	return qt
}
