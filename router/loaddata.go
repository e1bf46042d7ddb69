package router

import (
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/loaddata"
	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

// LoadData is LOAD DATA LOCAL INFILE into a sharded or global table. The
// proxy asks the client for its file, cuts the text into rows as the
// server reads them (package loaddata) and sends each row to the
// statement of its shard, which reads it again; a global table's copies
// each get every row.
type LoadData struct {
	// Routes has one statement a physical table, in shard order: the
	// client's, its table renamed and without IGNORE n LINES (the proxy
	// skips those lines itself).
	Routes []*Route
	// Path is the client's file name, which the proxy asks it for.
	Path string
	// Format is how the text is read (FIELDS and LINES).
	Format loaddata.Format
	// Fields is how many fields a row is read for (the column list's
	// length), Key the sharding column's among them (-1: a global table),
	// Skip the lines skipped first.
	Fields, Key int
	Skip        uint64
	// DatabaseCharset: the statement names no character set, so the
	// servers read the text in their database's, which the executor
	// checks is one of loaddata.Charsets.
	DatabaseCharset bool
	// Shard places a row by its key field's text, as the server would
	// store it in the column (-1 for none: NULL, or a value with no place
	// of its own, err saying why).
	Shard func(key []byte, null bool) (int, error)
}

func (l *LoadData) explain(b *strings.Builder, d int) {
	what := "rows by their field " + strconv.Itoa(l.Key)
	if l.Key < 0 {
		what = "every row to every copy"
	}
	line(b, d, "LoadData %s", what)
	for _, r := range l.Routes {
		r.explain(b, d+1)
	}
}

// planLoad plans LOAD DATA. A table on one node takes it whole (the
// client's file is relayed); a sharded or global table's LOAD DATA must
// be LOCAL (a server's own file is on one server) and read fields
// separated by a terminator.
func (b *builder) planLoad(s *ast.LoadDataStmt) (Primitive, error) {
	if len(b.tables) != 1 || b.tables[0].rule == nil {
		return b.planWhole()
	}
	t := b.tables[0]
	rule := t.rule
	if rule.Kind == shardrules.Single || rule.Kind == shardrules.Default || rule.Kind == shardrules.Global && len(rule.AllPlacements()) == 1 {
		return b.planWhole()
	}
	if s.FileLocRef != ast.FileLocClient {
		return nil, errUnsupported("LOAD DATA INFILE of a server's file into %s table %s: the file is on one server; use LOAD DATA LOCAL INFILE", rule.Kind, rule.Name)
	}
	if s.Format != nil || len(s.Options) > 0 || s.LowPriority {
		return nil, errUnsupported("these LOAD DATA options for %s table %s", rule.Kind, rule.Name)
	}
	if s.Charset != nil && !loaddata.Charsets[strings.ToLower(*s.Charset)] {
		return nil, errUnsupported("LOAD DATA ... CHARACTER SET %s into %s table %s: the proxy reads utf8mb4, utf8mb3, latin1, ascii and binary text", *s.Charset, rule.Kind, rule.Name)
	}
	ld := &LoadData{Path: s.Path, Format: loaddata.Format{FieldTerm: "\t", LineTerm: "\n", Enclosed: -1, Escape: '\\'}, Key: -1}
	f := &ld.Format
	if fi := s.FieldsInfo; fi != nil {
		if fi.Terminated != nil {
			f.FieldTerm = *fi.Terminated
		}
		if fi.Enclosed != nil && *fi.Enclosed != "" {
			f.Enclosed = int((*fi.Enclosed)[0])
		}
		if fi.Escaped != nil {
			f.Escape = -1
			if *fi.Escaped != "" {
				f.Escape = int((*fi.Escaped)[0])
			}
		}
		if fi.DefinedNullBy != nil {
			return nil, errUnsupported("LOAD DATA ... NULL DEFINED BY")
		}
	}
	if s.FieldsInfo == nil || s.FieldsInfo.Escaped == nil {
		if b.env.Mode&parser.ModeNoBackslashEscapes != 0 {
			f.Escape = -1 // (the server's default then)
		}
	}
	if l := s.LinesInfo; l != nil {
		if l.Terminated != nil {
			f.LineTerm = *l.Terminated
		}
		if l.Starting != nil {
			f.LineStart = *l.Starting
		}
	}
	if f.FieldTerm == "" || f.LineTerm == "" || f.FieldTerm == f.LineTerm {
		return nil, errUnsupported("LOAD DATA into %s table %s with empty or equal field and line terminators (fixed-width rows)", rule.Kind, rule.Name)
	}
	for _, text := range []string{f.FieldTerm, f.LineTerm, f.LineStart} {
		if !isASCII(text) {
			return nil, errUnsupported("LOAD DATA into %s table %s with terminators other than ASCII", rule.Kind, rule.Name)
		}
	}
	if s.IgnoreLines != nil {
		ld.Skip = *s.IgnoreLines
	}
	ld.DatabaseCharset = s.Charset == nil
	// The fields a row is read for, and the sharding column's.
	var cols []string
	for _, c := range s.ColumnsAndUserVars {
		if c.ColumnName != nil {
			cols = append(cols, c.ColumnName.Name.O)
		} else {
			cols = append(cols, "@") // a user variable takes a field
		}
	}
	if len(s.ColumnsAndUserVars) == 0 {
		if b.env.Columns == nil {
			return nil, errUnsupported("LOAD DATA into %s table %s without a column list", rule.Kind, rule.Name)
		}
		var err error
		if cols, err = b.env.Columns(t.schema, rule.Name); err != nil {
			return nil, err
		}
	}
	ld.Fields = len(cols)
	if t.sharded() {
		if rule.Kind == shardrules.Child && !rule.ChildRoutesByValue() {
			return nil, errUnsupported("LOAD DATA into %s: its rows' shards are their parents', which the proxy would look up row by row", rule.Name)
		}
		col := t.routingColumn()
		for i, c := range cols {
			if strings.EqualFold(c, col) {
				ld.Key = i
			}
		}
		if ld.Key < 0 {
			return nil, errUnsupported("LOAD DATA into %s without its sharding column %s among the fields", rule.Name, col)
		}
		for _, a := range s.ColumnAssignments {
			if a.Column != nil && strings.EqualFold(a.Column.Name.O, col) {
				return nil, errUnsupported("LOAD DATA ... SET %s: the proxy places rows by the field it reads", col)
			}
		}
		ld.Shard = func(key []byte, null bool) (int, error) {
			if null {
				// (A NOT NULL column takes its default, a generated id
				// the next one: the server's to decide.)
				return -1, errUnsupported("LOAD DATA of a row whose sharding column %s is NULL", col)
			}
			n, err := b.shardOf(t, shardrules.BytesValue(key), true)
			if noPlace(err) {
				return -1, errUnsupported("LOAD DATA of a row of %s whose sharding key has no place of its own: %v", rule.Name, err)
			}
			if err != nil {
				return -1, mysql.NewError(mysql.ER_WRONG_VALUE_FOR_TYPE, "shardgate: table "+rule.Name+": "+err.Error())
			}
			return n, nil
		}
	}
	// A statement for each physical table.
	table, ignore := *s.Table, s.IgnoreLines
	defer func() { *s.Table, s.IgnoreLines = table, ignore }()
	s.IgnoreLines = nil
	for i, p := range rule.AllPlacements() {
		s.Table.Schema = ast.NewCIStr("")
		s.Table.Name = ast.NewCIStr(p.Table)
		sql, err := parser.RestoreMode([]ast.StmtNode{s}, b.env.Mode)
		if err != nil {
			return nil, err
		}
		shard := ""
		if t.sharded() {
			shard = strconv.Itoa(i)
		}
		ld.Routes = append(ld.Routes, &Route{Node: p.Node, SQL: []string{sql}, Shard: shard})
	}
	return ld, nil
}
