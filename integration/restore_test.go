//go:build integration

package integration

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
)

// TestRestoreFidelity: the proxy reads a statement it rewrites with the
// TiDB parser and prints it back for the shards. What it prints must mean
// what the client wrote. MariaDB's own test suite (Debian package
// mariadb-test) holds thousands of SELECTs of constant expressions: every
// function, literal form, operator and comment syntax. Each one that runs
// on the oracle runs again as the proxy prints it (executable comments
// resolved first, as the proxy does), and must give the same rows.
func TestRestoreFidelity(t *testing.T) {
	const suite = "/usr/share/mysql/mysql-test/main"
	files, _ := filepath.Glob(filepath.Join(suite, "*.test"))
	if len(files) == 0 {
		t.Fatalf("no MariaDB test files in %s: install the Debian package mariadb-test (scripts/test.sh does)", suite)
	}
	db := Open(t, DSN("sg", "sg", oracleAddr, ""))
	conn := Conn(t, db)
	var version string
	if err := conn.QueryRowContext(context.Background(), "SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	vid := (&backend.ServerInfo{Version: version}).VersionID()

	// Printed differently, known and left: the TiDB parser keeps no trace
	// of them. CAST(x AS CHAR(n) BINARY) (deprecated syntax) becomes
	// BINARY(n), a binary string, where MariaDB gives the charset's _bin
	// collation; @@cache.var names a named key cache's variable.
	known := func(stmt string) string {
		switch {
		case charBinaryCast.MatchString(stmt):
			return "CHAR BINARY cast"
		case structuredVar(stmt):
			return "structured system variable"
		}
		return ""
	}
	// The same statements through the proxy, on a sharded schema: what the
	// session rewrites or answers itself must match too. (Not @@variables:
	// the proxy's servers are other servers than the oracle.)
	p := StartProxy(t, typesConfig())
	proxied := Conn(t, Open(t, DSN("app", "app", p.Addr, "ty")))
	var throughProxy, proxyDiffer, preparedDiffer int
	// And prepared (the binary protocol): the proxy runs a sharded
	// schema's prepared statement as text and converts the rows.
	pcli, err := client.Connect(p.Addr, "app", "app", "ty")
	if err != nil {
		t.Fatal(err)
	}
	defer pcli.Close()
	ocli, err := client.Connect(oracleAddr, "sg", "sg", "")
	if err != nil {
		t.Fatal(err)
	}
	defer ocli.Close()
	seen := map[string]bool{}
	var compared, differ, unparsed, knownSeen, unstable int
	for _, f := range files {
		for _, stmt := range testFileStatements(t, f) {
			if seen[stmt] || !constantSelect(stmt) {
				continue
			}
			seen[stmt] = true
			want, err := restoreRows(conn, stmt)
			if err != nil {
				continue // MariaDB refuses it too (or needs a table)
			}
			// Is it the server's answer each time? 10.11.14's COLUMN_LIST()
			// of a malformed dynamic column shows bytes of its memory:
			// nothing to compare with. (Asked again before a difference
			// is reported, as two answers may agree by chance.)
			steady := func() bool {
				again, _ := restoreRows(conn, stmt)
				return again == want
			}
			if !steady() {
				unstable++
				continue
			}
			stmts, err := parser.Parse(parser.ExpandComments(stmt, vid, true))
			if err != nil || len(stmts) != 1 {
				unparsed++ // the proxy answers these with the parser's 1064
				continue
			}
			printed, err := parser.Restore(stmts)
			if err != nil {
				t.Errorf("%s: %s: cannot print it back: %v", filepath.Base(f), stmt, err)
				continue
			}
			compared++
			got, err := restoreRows(conn, printed)
			same := err == nil && got == want
			if why := known(stmt); why != "" {
				knownSeen++
				if same {
					t.Errorf("%s: known as printed wrong (%s), now right: drop it from the list\n  %s", filepath.Base(f), why, stmt)
				}
				continue
			}
			if !same && !steady() {
				unstable++
				continue
			}
			if !same {
				differ++
				t.Errorf("%s: printed back, the statement means something else\n  wrote:   %s\n  printed: %s\n  want: %.300s\n  got:  %.300s (err %v)",
					filepath.Base(f), stmt, printed, want, got, err)
			}
			// (Not text that is not UTF-8 either: the suite's latin1 files,
			// which this utf8mb4 client would send malformed.)
			if !strings.Contains(stmt, "@@") && utf8.ValidString(stmt) {
				throughProxy++
				want, _ := restoreRows(conn, stmt, true)
				got, err := restoreRows(proxied, stmt, true)
				if emptyAlias.MatchString(stmt) {
					// An empty alias is no alias in the TiDB AST: the column
					// gets the expression's name. Known and left.
					continue
				}
				if pw, err := preparedRows(ocli, stmt); err == nil {
					if pg, err := preparedRows(pcli, stmt); (err != nil || sortedLines(pg) != sortedLines(pw)) && steady() {
						preparedDiffer++
						t.Errorf("%s: prepared through the proxy\n  %s\n  want: %.300s\n  got:  %.300s (err %v)", filepath.Base(f), stmt, pw, pg, err)
					}
				}
				if (err != nil || sortedLines(got) != sortedLines(want)) && steady() {
					proxyDiffer++
					t.Errorf("%s: through the proxy\n  %s\n  want: %.300s\n  got:  %.300s (err %v)", filepath.Base(f), stmt, want, got, err)
				}
			}
		}
	}
	t.Logf("restore fidelity: %d constant SELECTs compared, %d differ, %d known differences, %d the parser refuses (1064), %d the server answers differently each time; through the proxy %d, %d differ (%d prepared)",
		compared, differ, knownSeen, unparsed, unstable, throughProxy, proxyDiffer, preparedDiffer)
	if compared < 3000 {
		t.Errorf("only %d statements compared: is the MariaDB test suite complete?", compared)
	}
}

// The two constructs the proxy prints wrong (see TestRestoreFidelity):
// CAST(x AS CHAR(n) BINARY), and @@cache.var (a scope, then a dot, may
// come first: @@global.cache.var).
var (
	charBinaryCast = regexp.MustCompile(`(?i)\bas\s+char\s*(\(\s*\d+\s*\))?\s*(\w+\s+\w+\s+)?binary\b`)
	sysVarName     = regexp.MustCompile(`@@[\w.]+`)
)

// emptyAlias: AS "" (the TiDB AST cannot tell it from no alias).
var emptyAlias = regexp.MustCompile(`(?i)\bas\s*(""|''|` + "``" + `)\s*$`)

// sortedLines compares results whose row order the statement leaves open
// (SELECT 1 UNION SELECT 2 ORDER BY a tie).
func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func structuredVar(stmt string) bool {
	for _, v := range sysVarName.FindAllString(stmt, -1) {
		name := strings.ToLower(v[2:])
		for _, scope := range []string{"global.", "session.", "local."} {
			name = strings.TrimPrefix(name, scope)
		}
		if strings.Contains(name, ".") {
			return true
		}
	}
	return false
}

// constantSelect: a SELECT of constant expressions whose answer depends
// on nothing but the text (no table, clock, randomness, session or user
// variables it sets, server state).
var nonConstant = regexp.MustCompile(`(?i)\b(from|into|now|rand|uuid|uuid_short|sys_guid|sysdate|connection_id|benchmark|sleep|curtime|curdate|current_\w+|utc_\w+|localtime\w*|unix_timestamp\s*\(\s*\)|found_rows|row_count|last_insert_id|get_lock|release_lock|is_free_lock|is_used_lock|master_pos_wait|master_gtid_wait|version|user|session_user|system_user|database|schema|load_file|encrypt|des_encrypt|des_decrypt|password|old_password|aes_encrypt|aes_decrypt|random_bytes|nextval|lastval|setval|last_value|get_format|binlog_gtid_pos|@[a-z_'"` + "`" + `])`)

func constantSelect(stmt string) bool {
	if len(stmt) < 7 || !strings.EqualFold(stmt[:6], "select") || strings.Contains(stmt, ":=") {
		return false
	}
	// @@system variables are fine; @user variables are not (set elsewhere,
	// and the proxy writes a sharded statement's user variables in as
	// their values, which MariaDB may type otherwise).
	rest := strings.ReplaceAll(stmt, "@@", "")
	return !nonConstant.MatchString(rest) && !strings.Contains(rest, "@")
}

// testFileStatements splits a mysqltest file into its SQL statements,
// leaving out those the suite expects an error from (--error): nothing to
// compare, and a server older than the suite may misbehave on them
// (10.11.14 under 10.11.19's suite printed bytes of its memory for
// MDEV-39581's COLUMN_LIST(), then crashed).
func testFileStatements(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	var cur strings.Builder
	delim := ";"
	expectErr := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if cur.Len() == 0 {
			low := strings.ToLower(trim)
			if strings.HasPrefix(low, "--delimiter") || strings.HasPrefix(low, "delimiter") {
				delim = strings.TrimSpace(trim[strings.Index(low, "delimiter")+len("delimiter"):])
				continue
			}
			if strings.HasPrefix(low, "--error") || strings.HasPrefix(low, "-- error") || strings.HasPrefix(low, "error ") {
				expectErr = true
				continue
			}
			if trim == "" || strings.HasPrefix(trim, "--") || strings.HasPrefix(trim, "#") {
				continue
			}
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trim, delim) {
			if !expectErr {
				out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), delim))
			}
			cur.Reset()
			expectErr = false
		}
	}
	return out
}

// restoreRows runs a statement and prints its rows (after its column
// names, with names).
func restoreRows(c *sql.Conn, q string, names ...bool) (string, error) {
	rows, err := c.QueryContext(context.Background(), q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if len(names) > 0 && names[0] {
		fmt.Fprintf(&b, "%q\n", cols)
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		for _, v := range vals {
			if v == nil {
				b.WriteString("NULL|")
			} else {
				fmt.Fprintf(&b, "%q|", v)
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), rows.Err()
}

// preparedRows prepares and executes a statement (the binary protocol)
// and prints its column names, types and values.
func preparedRows(c *client.Conn, q string) (string, error) {
	st, err := c.Prepare(q)
	if err != nil {
		return "", err
	}
	defer st.Close()
	r, err := st.Execute()
	if err != nil {
		return "", err
	}
	defer r.Close()
	var b strings.Builder
	for _, f := range r.Fields {
		fmt.Fprintf(&b, "%q:%d:%d ", f.Name, f.Type, f.Decimal)
	}
	b.WriteByte('\n')
	for _, row := range r.Values {
		for _, v := range row {
			val := v.Value()
			if s, ok := val.([]byte); ok && len(s) == 0 {
				// An empty string: go-mysql decodes it as nil or as an
				// empty slice, depending on its buffers (NULL is no []byte).
				val = []byte{}
			}
			fmt.Fprintf(&b, "%#v|", val)
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}
