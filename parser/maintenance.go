package parser

import "strings"

// Maintenance is a table maintenance statement, which TiDB's parser reads
// otherwise or not at all: ANALYZE, CHECK, CHECKSUM, OPTIMIZE or REPAIR
// TABLE, each of a list of tables.
type Maintenance struct {
	Verb string // ANALYZE, CHECK, CHECKSUM, OPTIMIZE or REPAIR
	// Head is the text before the list ("OPTIMIZE NO_WRITE_TO_BINLOG
	// TABLE"), Tail the options after it ("EXTENDED", "PERSISTENT FOR
	// ALL"), both as the client wrote them.
	Head, Tail string
	Tables     []MaintenanceTable
}

// MaintenanceTable is a name of the list, unquoted; Schema is "" when
// not qualified.
type MaintenanceTable struct{ Schema, Name string }

var maintenanceVerbs = []string{"ANALYZE", "CHECK", "CHECKSUM", "OPTIMIZE", "REPAIR"}

// ParseMaintenance reads sql as a maintenance statement; ok is false when
// it is not one (ANALYZE SELECT, CHECK VIEW...). The options after the
// list are not checked: the servers read them. Under ANSI_QUOTES (mode)
// a name may be in double quotes.
func ParseMaintenance(sql string, mode Mode) (m Maintenance, ok bool) {
	l := NewLexer(sql)
	t := l.Next()
	if t.Kind != TokIdent {
		return m, false
	}
	for _, v := range maintenanceVerbs {
		if EqualFold(l.Text(t), v) {
			m.Verb = v
		}
	}
	if m.Verb == "" {
		return m, false
	}
	t = l.Next()
	if t.Kind == TokIdent && m.Verb != "CHECK" && m.Verb != "CHECKSUM" &&
		(EqualFold(l.Text(t), "NO_WRITE_TO_BINLOG") || EqualFold(l.Text(t), "LOCAL")) {
		t = l.Next()
	}
	if t.Kind != TokIdent || !EqualFold(l.Text(t), "TABLE") && !EqualFold(l.Text(t), "TABLES") {
		return m, false
	}
	m.Head = strings.TrimSpace(sql[:t.End])
	for {
		var name [2]string
		n := 0
		for {
			t = l.Next()
			quoted := t.Kind == TokQuotedIdent || t.Kind == TokString && mode&ModeANSIQuotes != 0 && l.Text(t)[0] == '"'
			if n == 2 || t.Kind != TokIdent && !quoted {
				return m, false
			}
			name[n] = unquoteIdent(l.Text(t))
			n++
			mark := l
			if d := l.Next(); d.Kind != TokOp || l.Text(d) != "." {
				l = mark
				break
			}
		}
		if n == 2 {
			m.Tables = append(m.Tables, MaintenanceTable{Schema: name[0], Name: name[1]})
		} else {
			m.Tables = append(m.Tables, MaintenanceTable{Name: name[0]})
		}
		mark := l
		if c := l.Next(); c.Kind != TokOp || l.Text(c) != "," {
			l = mark
			break
		}
	}
	from := l.Pos()
	for t = l.Next(); t.Kind != TokEOF && t.Kind != TokSemicolon; t = l.Next() {
	}
	m.Tail = strings.TrimSpace(sql[from:t.Start])
	return m, true
}
