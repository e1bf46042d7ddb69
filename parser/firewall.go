package parser

// The proxy logs in to its backends with one privileged account; a client
// must not borrow it for what concerns the whole server. ServerWide names
// the privilege a statement would need there, or "" for statements about
// the client's own data and session.
func ServerWide(sql string, s *Summary) string {
	if s.Flags&FlagFile != 0 {
		return "FILE"
	}
	l := NewLexer(sql)
	words := [3]string{}
	for i := range words {
		t := l.Next()
		for t.Kind == TokOp && l.Text(t) == "(" && i == 0 {
			t = l.Next()
		}
		if t.Kind != TokIdent {
			break
		}
		words[i] = upperWord(l.Text(t))
	}
	w1, w2 := words[0], words[1]
	switch w1 {
	case "GRANT", "REVOKE":
		return "GRANT OPTION"
	case "SHUTDOWN":
		return "SHUTDOWN"
	case "BINLOG", "INSTALL", "UNINSTALL", "PURGE", "BACKUP":
		return "SUPER"
	case "CHANGE":
		if w2 == "MASTER" || w2 == "REPLICATION" {
			return "SUPER"
		}
	case "START", "STOP":
		if w2 == "SLAVE" || w2 == "REPLICA" || w2 == "ALL" {
			return "SUPER"
		}
	case "RESET":
		if w2 != "QUERY" {
			return "RELOAD"
		}
	case "FLUSH":
		// Tables and status are the session's concern; the rest is the server's.
		if w2 != "TABLES" && w2 != "TABLE" && w2 != "STATUS" && w2 != "LOCAL" && w2 != "NO_WRITE_TO_BINLOG" {
			return "RELOAD"
		}
	case "CACHE", "LOAD":
		if w1 == "CACHE" || w2 == "INDEX" {
			return "SUPER"
		}
		if (w2 == "DATA" || w2 == "XML") && words[2] != "LOCAL" {
			return "FILE" // a file on the server, read with the proxy's account
		}
	case "CREATE", "ALTER", "DROP", "RENAME":
		switch w2 {
		case "USER", "ROLE", "SERVER":
			return "CREATE USER"
		}
		if hasWord(&l, "SONAME") {
			return "SUPER"
		}
	case "SET":
		switch w2 {
		case "PASSWORD", "ROLE", "DEFAULT":
			return "CREATE USER"
		}
	}
	return ""
}

func hasWord(l *Lexer, upper string) bool {
	for t := l.Next(); t.Kind != TokEOF; t = l.Next() {
		if t.Kind == TokIdent && EqualFold(l.Text(t), upper) {
			return true
		}
	}
	return false
}
