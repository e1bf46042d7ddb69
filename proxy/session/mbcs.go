package session

import (
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
)

// readable is the text the proxy reads of a client's statement: sql
// itself or, when the session's character_set_client has characters with
// ASCII bytes after their first (gbk, big5, sjis, cp932, gb18030) and sql
// holds one, sql with those bytes masked (parser.MaskMultibyte), which the
// proxy's lexers read as the server reads sql. A masked statement is
// forwarded as the client sent it, or refused (maskedRefusal): what the
// proxy would answer, rewrite, plan or keep of it is made of its text.
func (s *Session) readable(sql string) (text string, masked bool) {
	cs := s.foreignCharset()
	if cs == "" || !parser.ASCIITails(cs) {
		return sql, false
	}
	return parser.MaskMultibyte(sql, cs)
}

// What maskedRefusal names, where two places refuse it.
const (
	maskedComment   = "an executable comment in a statement"
	maskedSharded   = "a statement in a sharded schema"
	maskedRewritten = "a statement the proxy rewrites (a SHOW it restricts, DATABASE() and the like)"
)

// maskedRefusal refuses what, a statement readable masked.
func (s *Session) maskedRefusal(what string) *mysql.MyError {
	return unsupported(what + " whose " + s.foreignCharset() + " characters hold an ASCII byte (such as 0x5C, a backslash, in 0x81 0x5C):" +
		" the proxy reads statements byte by byte, and would plan, answer or rewrite this one from what it read; use a UTF-8 connection (SET NAMES utf8mb4)")
}

// keepsText reports whether local answers a statement, or keeps its text
// for later, rather than forwarding it.
func (s *Session) keepsText(text string, sum *parser.Summary) bool {
	switch sum.Kind {
	case parser.KindUse, parser.KindBegin, parser.KindCommit, parser.KindRollback, parser.KindSavepoint:
		return true
	case parser.KindShow:
		return isDiagnosticsStatement(sum) || s.localShow(text, sum) != nil
	case parser.KindCreate, parser.KindDrop, parser.KindAlter:
		return sum.Second == "DATABASE" || sum.Second == "SCHEMA"
	case parser.KindSet:
		return sum.Flags&parser.FlagSetTransaction != 0
	case parser.KindOther:
		return isPreview(text)
	}
	return false
}
