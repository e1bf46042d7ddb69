package parser

import "strings"

// Scan classifies a statement with the lexer alone. It is the proxy's fast
// path: a statement whose summary needs nothing special is forwarded as it
// is, without a full parse.

// Kind is a statement's kind as the first words tell it.
type Kind uint8

const (
	KindOther Kind = iota
	KindSelect
	KindInsert
	KindReplace
	KindUpdate
	KindDelete
	KindLoad
	KindSet
	KindUse
	KindShow
	KindBegin
	KindCommit
	KindRollback
	KindSavepoint
	KindCreate
	KindAlter
	KindDrop
	KindTruncate
	KindRename
	KindKill
	KindLock
	KindUnlock
	KindXA
	KindPrepare
	KindExecute
	KindDeallocate
	KindCall
	KindHandler
	KindExplain
	KindDo
	KindFlush
	KindEmpty // only blanks and comments
)

var kindNames = [...]string{"other", "select", "insert", "replace", "update", "delete", "load", "set", "use", "show",
	"begin", "commit", "rollback", "savepoint", "create", "alter", "drop", "truncate", "rename", "kill", "lock",
	"unlock", "xa", "prepare", "execute", "deallocate", "call", "handler", "explain", "do", "flush", "empty"}

func (k Kind) String() string { return kindNames[k] }

// hasSecondWord lists the kinds whose second word Scan reports.
func (k Kind) hasSecondWord() bool {
	switch k {
	case KindCreate, KindDrop, KindAlter, KindShow, KindSet, KindKill, KindBegin, KindLoad, KindLock, KindXA, KindFlush, KindRollback, KindCommit:
		return true
	}
	return false
}

// Flag marks something about a statement that the proxy must act on.
type Flag uint32

const (
	// FlagLastInsertID: LAST_INSERT_ID() is used.
	FlagLastInsertID Flag = 1 << iota
	// FlagPrevResult: FOUND_ROWS() or ROW_COUNT() read the previous
	// statement's outcome on the same connection.
	FlagPrevResult
	// FlagPin: the statement creates connection state the proxy cannot
	// replay (locks, temporary tables, SQL-level prepared statements, XA,
	// HANDLER): the session keeps its backend connection from now on.
	FlagPin
	// FlagUserVarAssign: a user variable is assigned (names in UserVars).
	FlagUserVarAssign
	// FlagConnectionID: CONNECTION_ID() must show the proxy's id.
	FlagConnectionID
	// FlagDatabase: DATABASE() or SCHEMA() must show the logical schema.
	FlagDatabase
	// FlagLockingRead: FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE.
	FlagLockingRead
	// FlagGlobal: SET GLOBAL / SET @@global.
	FlagGlobal
	// FlagSetTransaction: SET TRANSACTION without SESSION (next transaction only).
	FlagSetTransaction
	// FlagSessionTrack: touches session_track_* variables the proxy relies on.
	FlagSessionTrack
	// FlagSequence: NEXTVAL/LASTVAL/SETVAL or NEXT VALUE FOR.
	FlagSequence
	// FlagSideEffect: a read with side effects (GET_LOCK, SLEEP...): not for a replica.
	FlagSideEffect
	// FlagUser: USER(), CURRENT_USER()... must show the client's account,
	// not the proxy's backend account.
	FlagUser
	// FlagQualified: a name is qualified (x.y): it may name another database.
	FlagQualified
	// FlagFile: reads or writes files on the server (INTO OUTFILE, LOAD_FILE).
	FlagFile
	// FlagDiagnostics: @@warning_count or @@error_count must show the
	// session's last statement, not a pooled backend connection's.
	FlagDiagnostics
	// FlagFrom: the word FROM appears (a SELECT, DO or SET that reads a table).
	FlagFrom
	// FlagIntoVar: SELECT ... INTO @v (which TiDB's parser does not read).
	FlagIntoVar
)

// Summary is what Scan learns about a statement.
type Summary struct {
	Kind  Kind
	Flags Flag
	// Second is the statement's second word when it refines the kind
	// (CREATE TABLE / DATABASE / TEMPORARY, SHOW DATABASES, START...).
	Second string
	// Arg is the first argument of USE and KILL, unquoted.
	Arg string
	// KillQuery is set for KILL QUERY.
	KillQuery bool
	// UserVars assigned by the statement, without the @.
	UserVars []string
	// Next is the offset where a second statement starts, 0 if none.
	Next int
	// Hint is a routing hint in a comment before or after the first word.
	Hint Hint
}

// Scan classifies sql. It reuses s.UserVars' storage.
func Scan(sql string, s *Summary) { scan(sql, s, true) }

// ScanOne is Scan of the first statement alone (its flags only; s.Next
// still tells where the next one starts), for going over a query's
// statements one by one: Scan at each would go over all the rest each
// time.
func ScanOne(sql string, s *Summary) { scan(sql, s, false) }

// scan is Scan; with all false it stops at the first statement's end
// (scanRest goes over the others one by one: each scanning all those after
// it made a string of semicolons take exponential time).
func scan(sql string, s *Summary, all bool) {
	vars := s.UserVars[:0]
	*s = Summary{UserVars: vars}
	l := NewLexer(sql)
	first := l.Next()
	for first.Kind == TokOp && sql[first.Start] == '(' {
		first = l.Next()
	}
	if first.Kind == TokEOF {
		s.Kind = KindEmpty
		return
	}
	if first.Kind == TokSemicolon {
		s.Kind = KindEmpty
		s.Next = l.pos
		if all {
			scanRest(&l, s)
		}
		return
	}
	s.Kind = kindOf(l.Text(first))
	var prev Token
	intoList := false // in INTO @a, @b
	second := l.Next()
	if hasComment(sql[:first.Start]) || hasComment(sql[first.End:second.Start]) {
		s.Hint = hintIn(sql[:first.Start])
		if h := hintIn(sql[first.End:second.Start]); h != HintNone {
			s.Hint = h
		}
	}
	if second.Kind == TokIdent && s.Kind.hasSecondWord() {
		s.Second = upperWord(l.Text(second))
	}
	if s.Kind == KindBegin && EqualFold(l.Text(first), "START") && s.Second != "TRANSACTION" {
		s.Kind = KindOther // START SLAVE, START REPLICA...
	}
	switch s.Kind {
	case KindUse:
		s.Arg = unquoteIdent(l.Text(second))
	case KindKill:
		w := s.Second
		if w == "QUERY" || w == "CONNECTION" {
			s.KillQuery = w == "QUERY"
			second = l.Next()
		}
		s.Arg = l.Text(second)
	case KindCreate:
		if s.Second == "TEMPORARY" {
			s.Flags |= FlagPin
		}
	case KindLock, KindXA, KindPrepare, KindExecute, KindDeallocate, KindHandler:
		s.Flags |= FlagPin
	case KindSet:
		switch s.Second {
		case "GLOBAL":
			s.Flags |= FlagGlobal
		case "TRANSACTION":
			s.Flags |= FlagSetTransaction
		}
	case KindDrop:
		// DROP TEMPORARY TABLE needs the connection that created it; pinned already.
	}
	if second.Kind == TokEOF {
		return
	}
	// Stored-program bodies hold semicolons that do not end the statement.
	compound := s.Kind == KindBegin && s.Second == "NOT"
	depth := 0
	if compound {
		depth = 1
	}
	prev, tok := first, second
	for n := 1; ; n++ {
		if (s.Kind == KindCreate || s.Kind == KindAlter) && n < 10 && tok.Kind == TokIdent && !compound {
			w := l.Text(tok)
			compound = EqualFold(w, "PROCEDURE") || EqualFold(w, "FUNCTION") || EqualFold(w, "TRIGGER") || EqualFold(w, "EVENT")
		}
		if compound && tok.Kind == TokIdent {
			depth += blockDelta(&l, tok, prev)
		}
		switch tok.Kind {
		case TokEOF:
			return
		case TokSemicolon:
			if compound && depth > 0 {
				break
			}
			// Trailing semicolons and blanks do not make a second statement.
			rest := l
			if nt := rest.Next(); nt.Kind == TokEOF {
				return
			}
			s.Next = l.pos
			if all {
				scanRest(&l, s)
			}
			return
		case TokIdent:
			scanWord(&l, s, tok, prev)
		case TokOp:
			if l.src[tok.Start] == '.' && tok.End == tok.Start+1 && (prev.Kind == TokIdent || prev.Kind == TokQuotedIdent) {
				s.Flags |= FlagQualified
			}
		case TokSysVar:
			// Only an assignment's target changes a variable; reading
			// @@global.x on the right-hand side is harmless.
			target := false
			if s.Kind == KindSet {
				save := l
				nt := save.Next()
				target = nt.Kind == TokOp && (l.Text(nt) == "=" || l.Text(nt) == ":=")
			}
			scanSysVar(l.Text(tok), s, target)
		case TokUserVar:
			into := prev.Kind == TokIdent && EqualFold(l.Text(prev), "INTO") || intoList && isComma(&l, prev)
			intoList = into
			if into || s.Kind == KindSet && (prev == first || isComma(&l, prev)) {
				if into {
					s.Flags |= FlagIntoVar
				}
				s.addUserVar(l.Text(tok))
			} else {
				// @v := expr anywhere.
				save := l
				if nt := save.Next(); nt.Kind == TokOp && l.Text(nt) == ":=" {
					s.addUserVar(l.Text(tok))
				}
			}
		}
		if tok.Kind != TokUserVar && !isComma(&l, tok) {
			intoList = false
		}
		prev = tok
		tok = l.Next()
	}
}

// SplitStatements cuts a text of several statements into theirs, without
// the semicolons that end them.
func SplitStatements(sql string) []string {
	var out []string
	var sub Summary
	for off := 0; off < len(sql); {
		ScanOne(sql[off:], &sub)
		if sub.Next == 0 {
			return append(out, strings.TrimRight(sql[off:], "; \t\r\n"))
		}
		out = append(out, sql[off:off+sub.Next-1])
		off += sub.Next
	}
	return out
}

// scanRest scans the statements after the first, only for flags that
// matter to the session as a whole.
func scanRest(l *Lexer, s *Summary) {
	var sub Summary
	for off := s.Next; off < len(l.src); {
		ScanOne(l.src[off:], &sub)
		s.Flags |= sub.Flags
		for _, v := range sub.UserVars {
			s.addUserVar("@" + v)
		}
		if sub.Next == 0 {
			return
		}
		off += sub.Next
	}
}

// blockDelta tells how a word changes the nesting of a stored-program
// body: BEGIN, CASE, IF, LOOP, WHILE and REPEAT open a block, END closes
// one (END IF, END LOOP... are one closing).
func blockDelta(l *Lexer, tok, prev Token) int {
	w := l.Text(tok)
	afterEnd := prev.Kind == TokIdent && EqualFold(l.Text(prev), "END")
	switch {
	case EqualFold(w, "END"):
		return -1
	case afterEnd:
		return 0
	case EqualFold(w, "BEGIN"), EqualFold(w, "CASE"), EqualFold(w, "LOOP"), EqualFold(w, "WHILE"), EqualFold(w, "REPEAT"):
		return 1
	case EqualFold(w, "IF"):
		// IF(a, b, c) is a function; IF [NOT] EXISTS a clause.
		save := *l
		t := save.Next()
		if t.Kind == TokOp && save.src[t.Start] == '(' {
			return 0
		}
		if t.Kind == TokIdent && (EqualFold(save.Text(t), "NOT") || EqualFold(save.Text(t), "EXISTS")) {
			return 0
		}
		return 1
	}
	return 0
}

func isComma(l *Lexer, t Token) bool { return t.Kind == TokOp && l.src[t.Start] == ',' }

func (s *Summary) addUserVar(tok string) {
	name := unquoteIdent(tok[1:])
	for _, v := range s.UserVars {
		if v == name {
			return
		}
	}
	s.UserVars = append(s.UserVars, name)
	s.Flags |= FlagUserVarAssign
}

func scanSysVar(v string, s *Summary, target bool) {
	// @@global.x, @@session.session_track_x
	w, global := sysVarName(v)
	if global && target {
		s.Flags |= FlagGlobal
	}
	if target && hasPrefixFold(w, "SESSION_TRACK_") {
		s.Flags |= FlagSessionTrack
	}
	if EqualFold(w, "LAST_INSERT_ID") || EqualFold(w, "IDENTITY") {
		s.Flags |= FlagLastInsertID
	}
	if !global && (EqualFold(w, "WARNING_COUNT") || EqualFold(w, "ERROR_COUNT")) {
		s.Flags |= FlagDiagnostics
	}
}

// sysVarName strips a @@ token's @@ and scope: global says @@global.
func sysVarName(v string) (name string, global bool) {
	w := v[2:]
	switch {
	case len(w) > 7 && EqualFold(w[:7], "GLOBAL."):
		return w[7:], true
	case len(w) > 8 && EqualFold(w[:8], "SESSION."):
		return w[8:], false
	case len(w) > 6 && EqualFold(w[:6], "LOCAL."):
		return w[6:], false
	}
	return w, false
}

// DiagnosticsVar names the counter a @@warning_count or @@error_count
// token reads ("warning_count", "error_count"), or "".
func DiagnosticsVar(v string) string {
	if len(v) < 2 || v[:2] != "@@" {
		return ""
	}
	switch w, global := sysVarName(v); {
	case global:
	case EqualFold(w, "WARNING_COUNT"):
		return "warning_count"
	case EqualFold(w, "ERROR_COUNT"):
		return "error_count"
	}
	return ""
}

func scanWord(l *Lexer, s *Summary, tok, prev Token) {
	w := l.Text(tok)
	if len(w) < 3 {
		return
	}
	switch w[0] | 0x20 {
	case 'l':
		switch {
		case EqualFold(w, "LOAD_FILE"):
			s.Flags |= FlagFile
		case EqualFold(w, "LAST_INSERT_ID"):
			s.Flags |= FlagLastInsertID
		case EqualFold(w, "LASTVAL"):
			s.Flags |= FlagSequence
		case EqualFold(w, "LOCK") && s.Kind == KindSelect && nextWordIs(l, "IN"):
			s.Flags |= FlagLockingRead
		case EqualFold(w, "LOCK") && s.Kind == KindFlush:
			s.Flags |= FlagPin // FLUSH TABLES ... WITH READ LOCK: the lock stays on the connection
		}
	case 'e':
		if EqualFold(w, "EXPORT") && s.Kind == KindFlush {
			s.Flags |= FlagPin // FLUSH TABLES t FOR EXPORT locks t
		}
	case 'f':
		if EqualFold(w, "FOUND_ROWS") {
			s.Flags |= FlagPrevResult
		} else if EqualFold(w, "FROM") {
			s.Flags |= FlagFrom
		} else if EqualFold(w, "FOR") && s.Kind == KindSelect {
			save := *l
			if nt := save.Next(); nt.Kind == TokIdent {
				if nw := save.Text(nt); EqualFold(nw, "UPDATE") || EqualFold(nw, "SHARE") {
					s.Flags |= FlagLockingRead
				}
			}
		}
	case 'r':
		switch {
		case EqualFold(w, "ROW_COUNT"):
			s.Flags |= FlagPrevResult
		case EqualFold(w, "RELEASE_LOCK") || EqualFold(w, "RELEASE_ALL_LOCKS"):
			s.Flags |= FlagPin | FlagSideEffect
		}
	case 'g':
		if EqualFold(w, "GET_LOCK") {
			s.Flags |= FlagPin | FlagSideEffect
		}
	case 's':
		switch {
		case EqualFold(w, "SCHEMA") && nextIsParen(l):
			s.Flags |= FlagDatabase
		case EqualFold(w, "SESSION_TRACK_SYSTEM_VARIABLES") || EqualFold(w, "SESSION_TRACK_SCHEMA") ||
			EqualFold(w, "SESSION_TRACK_STATE_CHANGE") || EqualFold(w, "SESSION_TRACK_TRANSACTION_INFO"):
			if s.Kind == KindSet {
				s.Flags |= FlagSessionTrack
			}
		case EqualFold(w, "SETVAL"):
			s.Flags |= FlagSequence | FlagSideEffect
		case EqualFold(w, "SLEEP"):
			s.Flags |= FlagSideEffect
		case EqualFold(w, "SESSION_USER") || EqualFold(w, "SYSTEM_USER"):
			s.Flags |= FlagUser
		}
	case 'd':
		if EqualFold(w, "DATABASE") && nextIsParen(l) {
			s.Flags |= FlagDatabase
		} else if EqualFold(w, "DUMPFILE") {
			s.Flags |= FlagFile
		}
	case 'o':
		if EqualFold(w, "OUTFILE") {
			s.Flags |= FlagFile
		}
	case 'c':
		if EqualFold(w, "CONNECTION_ID") {
			s.Flags |= FlagConnectionID
		} else if EqualFold(w, "CURRENT_USER") {
			s.Flags |= FlagUser
		}
	case 'n':
		if EqualFold(w, "NEXTVAL") || (EqualFold(w, "NEXT") && nextWordIs(l, "VALUE")) {
			s.Flags |= FlagSequence | FlagSideEffect
		}
	case 'p':
		if EqualFold(w, "PREVIOUS") && nextWordIs(l, "VALUE") {
			s.Flags |= FlagSequence
		}
	case 'i':
		if EqualFold(w, "IS_USED_LOCK") || EqualFold(w, "IS_FREE_LOCK") {
			s.Flags |= FlagSideEffect
		}
	case 'u':
		if EqualFold(w, "USER") && nextIsParen(l) {
			s.Flags |= FlagUser
		}
	case 't':
		if EqualFold(w, "TEMPORARY") && s.Kind == KindCreate {
			s.Flags |= FlagPin
		}
	}
}

func nextIsParen(l *Lexer) bool {
	save := *l
	t := save.Next()
	return t.Kind == TokOp && save.src[t.Start] == '('
}

func nextWordIs(l *Lexer, upper string) bool {
	save := *l
	t := save.Next()
	return t.Kind == TokIdent && EqualFold(save.Text(t), upper)
}

func hasPrefixFold(w, upper string) bool {
	return len(w) >= len(upper) && EqualFold(w[:len(upper)], upper)
}

func kindOf(w string) Kind {
	if len(w) < 2 {
		return KindOther
	}
	switch w[0] | 0x20 {
	case 's':
		switch {
		case EqualFold(w, "SELECT"):
			return KindSelect
		case EqualFold(w, "SET"):
			return KindSet
		case EqualFold(w, "SHOW"):
			return KindShow
		case EqualFold(w, "START"):
			return KindBegin
		case EqualFold(w, "SAVEPOINT"):
			return KindSavepoint
		}
	case 'i':
		if EqualFold(w, "INSERT") {
			return KindInsert
		}
	case 'u':
		switch {
		case EqualFold(w, "UPDATE"):
			return KindUpdate
		case EqualFold(w, "USE"):
			return KindUse
		case EqualFold(w, "UNLOCK"):
			return KindUnlock
		}
	case 'd':
		switch {
		case EqualFold(w, "DELETE"):
			return KindDelete
		case EqualFold(w, "DROP"):
			return KindDrop
		case EqualFold(w, "DESC") || EqualFold(w, "DESCRIBE"):
			return KindExplain
		case EqualFold(w, "DO"):
			return KindDo
		case EqualFold(w, "DEALLOCATE"):
			return KindDeallocate
		}
	case 'r':
		switch {
		case EqualFold(w, "REPLACE"):
			return KindReplace
		case EqualFold(w, "ROLLBACK"):
			return KindRollback
		case EqualFold(w, "RENAME"):
			return KindRename
		case EqualFold(w, "RELEASE"):
			return KindSavepoint
		}
	case 'w':
		if EqualFold(w, "WITH") {
			return KindSelect
		}
	case 'v':
		if EqualFold(w, "VALUES") {
			return KindSelect
		}
	case 't':
		switch {
		case EqualFold(w, "TRUNCATE"):
			return KindTruncate
		case EqualFold(w, "TABLE"):
			return KindSelect
		}
	case 'b':
		if EqualFold(w, "BEGIN") {
			return KindBegin
		}
	case 'c':
		switch {
		case EqualFold(w, "COMMIT"):
			return KindCommit
		case EqualFold(w, "CREATE"):
			return KindCreate
		case EqualFold(w, "CALL"):
			return KindCall
		}
	case 'a':
		if EqualFold(w, "ALTER") {
			return KindAlter
		}
	case 'k':
		if EqualFold(w, "KILL") {
			return KindKill
		}
	case 'l':
		switch {
		case EqualFold(w, "LOAD"):
			return KindLoad
		case EqualFold(w, "LOCK"):
			return KindLock
		}
	case 'x':
		if EqualFold(w, "XA") {
			return KindXA
		}
	case 'p':
		if EqualFold(w, "PREPARE") {
			return KindPrepare
		}
	case 'e':
		switch {
		case EqualFold(w, "EXECUTE"):
			return KindExecute
		case EqualFold(w, "EXPLAIN"):
			return KindExplain
		}
	case 'h':
		if EqualFold(w, "HANDLER") {
			return KindHandler
		}
	case 'f':
		if EqualFold(w, "FLUSH") {
			return KindFlush
		}
	}
	return KindOther
}

func upperWord(w string) string {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'a' && c <= 'z' {
			b := []byte(w)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return w
}

// unquoteIdent strips backquotes (or string quotes) from a name.
func unquoteIdent(s string) string {
	if len(s) >= 2 && (s[0] == '`' || s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		q := s[0]
		inner := s[1 : len(s)-1]
		out := make([]byte, 0, len(inner))
		for i := 0; i < len(inner); i++ {
			out = append(out, inner[i])
			if inner[i] == q && i+1 < len(inner) && inner[i+1] == q {
				i++
			}
		}
		return string(out)
	}
	return s
}
