package router

import (
	"slices"
	"strings"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/shardrules"
)

// OneNodeText is how a statement TiDB's parser cannot read (MariaDB's own
// syntax: JSON_TABLE, FOR SYSTEM_TIME, LIMIT ROWS EXAMINED, a table value
// constructor...) still runs: when no word of it can name a table the
// proxy must route (sharded, an ER child, a global table written, tables
// of two nodes) or a table of another schema, it goes as written to the
// one node its tables are on, and that server reads it. Its words are
// read with the lexer, so a column named like such a table keeps the
// parser's refusal too. Qualifiers naming the session's schema are
// renamed to the node's database. write: the statement may write.
func OneNodeText(sql string, env *Env, write bool) (node, text string, ok bool) {
	rules := env.Rules(env.Schema)
	if env.Schema == "" || rules == nil {
		return "", "", false
	}
	var qualifiers [][2]int // byte ranges of the schema's name as a qualifier
	global := false
	l := parser.NewLexer(sql)
	for t := l.Next(); t.Kind != parser.TokEOF; t = l.Next() {
		if t.Kind != parser.TokIdent && t.Kind != parser.TokQuotedIdent {
			continue
		}
		w := l.Text(t)
		if t.Kind == parser.TokQuotedIdent {
			w = strings.ReplaceAll(strings.TrimSuffix(w[1:], "`"), "``", "`") // (unterminated at the end: "`")
		}
		mark := l
		if d := l.Next(); d.Kind == parser.TokOp && l.Text(d) == "." {
			switch {
			case w == env.Schema:
				qualifiers = append(qualifiers, [2]int{t.Start, t.End})
				l = mark
				continue
			case systemSchemas[strings.ToLower(w)] || env.Rules(w) != nil:
				return "", "", false
			}
		}
		l = mark
		for name, r := range rules.Tables {
			if !strings.EqualFold(name, w) {
				continue
			}
			switch r.Kind {
			case shardrules.Single:
				if node != "" && node != r.Node {
					return "", "", false
				}
				node = r.Node
			case shardrules.Global:
				global = true
			default:
				return "", "", false
			}
		}
	}
	if node == "" {
		node = rules.DefaultNode
	}
	if node == "" && len(rules.Nodes) > 0 {
		node = rules.Nodes[0]
	}
	if node == "" || global && (write || !slices.Contains(rules.Nodes, node)) {
		return "", "", false
	}
	var b strings.Builder
	at := 0
	for _, q := range qualifiers {
		b.WriteString(sql[at:q[0]])
		b.WriteString(quote(env.NodeDB(node)))
		at = q[1]
	}
	b.WriteString(sql[at:])
	return node, b.String(), true
}
