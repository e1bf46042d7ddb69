//go:build integration

package integration

// Helpers of the oracle comparison (sharding_test.go): the query-shape file,
// loading SQL files, running a query into comparable rows, comparing a proxy
// result with the unsharded oracle's, and waiting for the replicas.

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// nullCell stands for SQL NULL in a row (it cannot occur in the data set).
const nullCell = "\x00NULL"

// refusalPrefix starts the message of a proxy refusal (error 1235).
const refusalPrefix = "shardgate does not support"

// queryCase is one query shape of testdata/shop/queries.txt.
type queryCase struct {
	ID   string
	SQL  string
	Line int
	// Ordered: compare rows in order (the ORDER BY is total); otherwise as multisets.
	Ordered bool
	// RefusalOK: out of scope for the sharding issue (cross-node join, subquery
	// that cannot be pushed down): error 1235 "shardgate does not support ..." passes.
	RefusalOK bool
	// Error: the oracle answers with an error; the proxy must answer with the
	// same code (and the same message unless AnyMessage).
	Error      bool
	AnyMessage bool
	// Meta: metadata statement (SHOW, information_schema, DATABASE()); not
	// re-run on the shuffled Aria copy of the self-check.
	Meta bool
	// Ignore: columns whose values are not compared (e.g. Cardinality).
	Ignore []string
}

// loadQueries reads a query-shape file: "id | flags | SQL" per line, flags
// comma-separated (ordered, refusal_ok, error, anymsg, meta, ignore=A;B) or
// "-"; blank lines and lines starting with # are skipped.
func loadQueries(t testing.TB, path string) []queryCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []queryCase
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		parts := strings.SplitN(s, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("%s:%d: want \"id | flags | SQL\"", path, line)
		}
		q := queryCase{ID: strings.TrimSpace(parts[0]), SQL: strings.TrimSpace(parts[2]), Line: line}
		if prev, ok := seen[q.ID]; ok {
			t.Fatalf("%s:%d: id %s already used on line %d", path, line, q.ID, prev)
		}
		seen[q.ID] = line
		for _, fl := range strings.Split(parts[1], ",") {
			fl = strings.TrimSpace(fl)
			switch {
			case fl == "-" || fl == "":
			case fl == "ordered":
				q.Ordered = true
			case fl == "refusal_ok":
				q.RefusalOK = true
			case fl == "error":
				q.Error = true
			case fl == "anymsg":
				q.AnyMessage = true
			case fl == "meta":
				q.Meta = true
			case strings.HasPrefix(fl, "ignore="):
				q.Ignore = strings.Split(strings.TrimPrefix(fl, "ignore="), ";")
			default:
				t.Fatalf("%s:%d: unknown flag %q", path, line, fl)
			}
		}
		if q.ID == "" || q.SQL == "" {
			t.Fatalf("%s:%d: empty id or SQL", path, line)
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// splitSQLFile returns the statements of a SQL file: "--" comment lines are
// dropped and a statement ends with a line ending in ";". (Our files never
// put a newline inside a string literal.)
func splitSQLFile(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	var cur strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "--") {
			continue
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(l)
		if strings.HasSuffix(strings.TrimRight(l, " \t\r"), ";") {
			s := strings.TrimSpace(cur.String())
			stmts = append(stmts, strings.TrimSuffix(s, ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		t.Fatalf("%s: unterminated statement at the end: %.80s", path, s)
	}
	return stmts
}

// queryer is a *sql.DB or *sql.Conn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// result is what a query returned, in comparable form.
type result struct {
	Cols  []string
	Types []string
	Rows  [][]string // nullCell for NULL
	Err   error
}

// queryTimeout bounds one statement, so that a proxy that hangs fails one
// shape instead of the whole suite.
const queryTimeout = 30 * time.Second

// runQuery runs a query and reads every row as raw text (the text protocol).
// Note: go-sql-driver v1.10 parses integer and DOUBLE columns of the text
// protocol, so those come back re-formatted by Go (strconv 'g' -1); DECIMAL,
// strings and temporal values are the server's bytes.
func runQuery(q queryer, query string, args ...any) result {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return result{Err: err}
	}
	return readResult(rows)
}

// readResult reads and closes rows (see runQuery).
func readResult(rows *sql.Rows) result {
	defer rows.Close()
	var err error
	var r result
	if r.Cols, err = rows.Columns(); err != nil {
		return result{Err: err}
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		return result{Err: err}
	}
	for _, ct := range cts {
		r.Types = append(r.Types, ct.DatabaseTypeName())
	}
	raw := make([]sql.RawBytes, len(r.Cols))
	dest := make([]any, len(raw))
	for i := range raw {
		dest[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return result{Err: err}
		}
		row := make([]string, len(raw))
		for i, v := range raw {
			if v == nil {
				row[i] = nullCell
			} else {
				row[i] = string(v)
			}
		}
		r.Rows = append(r.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return result{Err: err}
	}
	return r
}

func fmtCell(s string) string {
	if s == nullCell {
		return "NULL"
	}
	return strconv.Quote(s)
}

func fmtRow(row []string) string {
	if row == nil {
		return "(none)"
	}
	parts := make([]string, len(row))
	for i, c := range row {
		parts[i] = fmtCell(c)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func rowKey(row []string) string { return fmtRow(row) }

// blankIgnored replaces the values of ignored columns.
func blankIgnored(r *result, ignore []string) {
	if len(ignore) == 0 {
		return
	}
	for ci, name := range r.Cols {
		for _, ig := range ignore {
			if strings.EqualFold(name, ig) {
				for _, row := range r.Rows {
					if ci < len(row) {
						row[ci] = "<ignored>"
					}
				}
			}
		}
	}
}

// compareResults returns "" when got (the proxy) matches want (the oracle),
// else a description of the first difference.
func compareResults(got, want result, ordered bool) string {
	if strings.Join(got.Cols, "\x00") != strings.Join(want.Cols, "\x00") {
		return fmt.Sprintf("columns differ:\n  proxy:  %q\n  oracle: %q", got.Cols, want.Cols)
	}
	if strings.Join(got.Types, ",") != strings.Join(want.Types, ",") {
		return fmt.Sprintf("column types differ for columns %q:\n  proxy:  %v\n  oracle: %v", got.Cols, got.Types, want.Types)
	}
	if ordered {
		n := max(len(got.Rows), len(want.Rows))
		for i := 0; i < n; i++ {
			var g, w []string
			if i < len(got.Rows) {
				g = got.Rows[i]
			}
			if i < len(want.Rows) {
				w = want.Rows[i]
			}
			if g == nil || w == nil || rowKey(g) != rowKey(w) {
				return fmt.Sprintf("row %d of %d (proxy has %d) differs:\n  proxy:  %s\n  oracle: %s",
					i+1, len(want.Rows), len(got.Rows), fmtRow(g), fmtRow(w))
			}
		}
		return ""
	}
	gk, wk := make([]string, len(got.Rows)), make([]string, len(want.Rows))
	for i, r := range got.Rows {
		gk[i] = rowKey(r)
	}
	for i, r := range want.Rows {
		wk[i] = rowKey(r)
	}
	sort.Strings(gk)
	sort.Strings(wk)
	var missing, extra []string // missing: in the oracle only; extra: in the proxy only
	i, j := 0, 0
	for i < len(gk) || j < len(wk) {
		switch {
		case j >= len(wk) || (i < len(gk) && gk[i] < wk[j]):
			extra = append(extra, gk[i])
			i++
		case i >= len(gk) || wk[j] < gk[i]:
			missing = append(missing, wk[j])
			j++
		default:
			i++
			j++
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	msg := fmt.Sprintf("rows differ as multisets (proxy %d rows, oracle %d): %d only in the oracle, %d only in the proxy",
		len(got.Rows), len(want.Rows), len(missing), len(extra))
	if len(missing) > 0 {
		msg += "\n  first only in oracle: " + missing[0]
	}
	if len(extra) > 0 {
		msg += "\n  first only in proxy:  " + extra[0]
	}
	return msg
}

// errInfo returns the MySQL error code and message of err (0 and the text
// when err is not a MySQL error).
func errInfo(err error) (uint16, string) {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number, me.Message
	}
	if err == nil {
		return 0, ""
	}
	return 0, err.Error()
}

// isRefusal reports whether err is the proxy's "not supported" refusal.
func isRefusal(err error) bool {
	code, msg := errInfo(err)
	return code == 1235 && strings.HasPrefix(msg, refusalPrefix)
}

// verdict is the outcome of one compared shape.
type verdict int

const (
	passed verdict = iota
	refused
	failed
)

// judge compares a proxy result with the oracle's for a query case.
func judge(q queryCase, got, want result) (verdict, string) {
	if q.Error {
		if want.Err == nil {
			return failed, "test bug: the oracle did not fail on a shape flagged error"
		}
		wc, wm := errInfo(want.Err)
		gc, gm := errInfo(got.Err)
		switch {
		case got.Err == nil:
			return failed, fmt.Sprintf("proxy answered, the oracle failed with %d %q", wc, wm)
		case gc != wc:
			return failed, fmt.Sprintf("error code differs: proxy %d %q, oracle %d %q", gc, gm, wc, wm)
		case !q.AnyMessage && gm != wm:
			return failed, fmt.Sprintf("error message differs (code %d):\n  proxy:  %q\n  oracle: %q", wc, gm, wm)
		}
		return passed, ""
	}
	if want.Err != nil {
		return failed, fmt.Sprintf("test bug: the oracle failed: %v", want.Err)
	}
	if got.Err != nil {
		if q.RefusalOK && isRefusal(got.Err) {
			return refused, ""
		}
		code, msg := errInfo(got.Err)
		return failed, fmt.Sprintf("proxy error %d: %s", code, msg)
	}
	blankIgnored(&got, q.Ignore)
	blankIgnored(&want, q.Ignore)
	if d := compareResults(got, want, q.Ordered); d != "" {
		return failed, d
	}
	return passed, ""
}

// execAll runs statements in order and returns the first error, naming the statement.
func execAll(q queryer, stmts []string) error {
	for _, s := range stmts {
		ctx, cancel := context.WithTimeout(context.Background(), 2*queryTimeout)
		_, err := q.ExecContext(ctx, s)
		cancel()
		if err != nil {
			return fmt.Errorf("%.120s: %w", strings.Join(strings.Fields(s), " "), err)
		}
	}
	return nil
}

// waitReplicas waits until each replica has applied everything its primary
// has binlogged, so that reads the proxy sends to replicas see the writes.
func waitReplicas(t testing.TB) {
	t.Helper()
	for _, pair := range [][2]string{{dh0Primary, dh0Replica}, {dh1Primary, dh1Replica}} {
		p := Open(t, DSN("sg", "sg", pair[0], ""))
		pos := QueryString(t, p, "SELECT @@gtid_binlog_pos")
		if pos == "" || pos == "NULL" {
			continue
		}
		r := Open(t, DSN("sg", "sg", pair[1], ""))
		if got := QueryString(t, r, "SELECT MASTER_GTID_WAIT(?, 60)", pos); got != "0" {
			t.Fatalf("replica %s did not reach %s of %s within 60s (MASTER_GTID_WAIT = %s)", pair[1], pos, pair[0], got)
		}
	}
}

// physicalTables lists the tables of a database on a server (sorted).
func physicalTables(t testing.TB, addr, database string) []string {
	t.Helper()
	db := Open(t, DSN("sg", "sg", addr, ""))
	r := runQuery(db, "SELECT table_name FROM information_schema.tables WHERE table_schema = '"+database+"' ORDER BY 1")
	if r.Err != nil {
		t.Fatalf("%s: list tables of %s: %v", addr, database, r.Err)
	}
	var out []string
	for _, row := range r.Rows {
		out = append(out, row[0])
	}
	return out
}
