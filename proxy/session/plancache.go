package session

import (
	"errors"
	"slices"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/router"
)

// The plan cache: a sharded statement is looked up by its template (its
// text with the literals replaced by ?) plus what changes its meaning (the
// schema, the user, the sql_mode). A hit plans it without parsing: the
// template gives the node and the text (or, for a SELECT over several
// shards, the merge and a text per shard), the literals are put back in.
// A statement is compiled into a template the first time it is seen; one
// whose plan depends on its values beyond picking its shards is
// remembered as such and planned each time (see router.Template).

// templateReady are the statement kinds worth a template.
func templateReady(sum *parser.Summary) bool {
	switch sum.Kind {
	case parser.KindSelect, parser.KindInsert, parser.KindReplace, parser.KindUpdate, parser.KindDelete:
	default:
		return false
	}
	// Values only this session may see are written into the statement.
	return sum.Next == 0 && sum.Flags&(parser.FlagDatabase|parser.FlagConnectionID|parser.FlagUser|parser.FlagDiagnostics) == 0
}

// cachedPlan returns the statement's plan from its template, if it has one.
func (s *Session) cachedPlan(sql string, sum *parser.Summary, snap *snapshot.Snapshot) (*router.Plan, bool) {
	mode := s.mode()
	// Templates place text keys as UTF-8 without asking the router.
	if !templateReady(sum) || mode&parser.ModeNoBackslashEscapes != 0 || s.modeCache.foreign != "" {
		return nil, false
	}
	c := &s.tpl
	var ok bool
	if c.key, c.lits, ok = parser.Template(sql, c.key, c.lits); !ok {
		return nil, false
	}
	if snap.Stats != nil {
		s.fps.note(sql, c.key, c.lits)
	}
	n := len(c.key)
	c.key = s.templateKey(c.key, mode)
	tpl, found := snap.Plans.Get(c.key)
	if !found {
		var keep bool
		if tpl, keep = s.compileTemplate(sql, string(c.key[:n]), snap); keep {
			snap.Plans.Put(c.key, tpl)
		}
	}
	if tpl == nil {
		return nil, false
	}
	c.texts = c.texts[:0]
	for _, l := range c.lits {
		c.texts = append(c.texts, sql[l.Start:l.End])
	}
	if !s.givesIDs(tpl.IDParams, func(i int) (any, bool) {
		if i >= len(c.texts) {
			return nil, false
		}
		return parser.LiteralValue(c.texts[i]), true
	}) {
		return nil, false // the slow way generates the ids
	}
	c.vals = c.vals[:0]
	for _, p := range tpl.Params() {
		if p < 0 || p >= len(c.texts) {
			return nil, false
		}
		c.vals = append(c.vals, parser.LiteralValue(c.texts[p]))
	}
	if c.buf, ok = tpl.PlanInto(&c.plan, &c.route, c.buf, c.texts, c.vals); !ok {
		ok = s.spanPlan(tpl, &c.plan, string(c.key[:n]), c.texts, c.values, c.vals, snap)
	}
	return &c.plan, ok
}

// spanPlan fills p for an execution of a one-shard BETWEEN template
// whose bounds span several shards, from the plan the template learnt
// for that span, learning it first when it is new. lits are the
// literals' texts and vals their values (in text order), keys the values
// of tpl.Params(); false: plan it the slow way.
func (s *Session) spanPlan(tpl *router.Template, p *router.Plan, text string, lits []string, vals func() []any, keys []any, snap *snapshot.Snapshot) bool {
	if tpl.SpanInto(p, lits, keys) {
		return true
	}
	if !tpl.NewSpan(keys) {
		return false
	}
	var span *router.SpanError
	if stmts, err := parser.ParseMode(text, s.mode()); err == nil && len(stmts) == 1 {
		bindParams(stmts[0], vals(), false)
		_, _, err = router.Compile(stmts[0], s.routerEnv(snap))
		errors.As(err, &span)
	}
	tpl.LearnSpan(keys, span)
	return tpl.SpanInto(p, lits, keys)
}

// compileTemplate plans a statement's template once; nil when its plan is
// not one a template can serve.
func (s *Session) compileTemplate(sql, text string, snap *snapshot.Snapshot) (*router.Template, bool) {
	vals := make([]any, len(s.tpl.lits))
	for i, l := range s.tpl.lits {
		vals[i] = parser.LiteralValue(sql[l.Start:l.End])
	}
	return s.compile(text, vals, s.mode(), snap)
}

// compile makes the template of a statement text whose markers take vals
// (in text order) for one execution; nil when the proxy answers it, ids
// are generated for it, or its plan is not one a template can serve. A
// statement placed by a BETWEEN whose bounds span shards for these values
// is compiled again with both bounds the lower one: its template serves
// the executions whose bounds fall in one shard. keep is false when only
// these values made it nil (one has no shard): compile again next time.
func (s *Session) compile(text string, vals []any, mode parser.Mode, snap *snapshot.Snapshot) (_ *router.Template, keep bool) {
	var spanned *router.SpanError // the first try's
	var bounds []any
	for try := 0; try < 2; try++ {
		stmts, err := parser.ParseMode(text, mode)
		if err != nil || len(stmts) != 1 {
			return nil, true
		}
		stmt := stmts[0]
		bindParams(stmt, vals, false)
		if _, meta := metadataStmt(stmt); meta {
			return nil, true
		}
		if _, _, info := infoSchemaSelect(stmt); info {
			return nil, true // answered by the proxy
		}
		// An INSERT whose ids the proxy generates: only when its rows give
		// the ids by markers, and these values generate none (else they
		// would be planned with the ids filled in).
		var ids []int
		if seq, idx, need, err := s.idRequests(stmt, snap); seq != nil {
			if ids = idMarkers(stmt.(*ast.InsertStmt), idx); err != nil || len(need) > 0 || ids == nil {
				return nil, true
			}
		}
		tpl, _, err := router.Compile(stmt, s.routerEnv(snap))
		if errors.Is(err, router.ErrUnplaced) {
			return nil, false
		}
		var span *router.SpanError
		if !errors.As(err, &span) || span.Lower >= len(vals) || span.Upper >= len(vals) {
			if tpl != nil {
				tpl.IDParams = ids
				if spanned != nil {
					tpl.LearnSpan(bounds, spanned)
				}
			}
			return tpl, true
		}
		spanned, bounds = span, []any{vals[span.Lower], vals[span.Upper]}
		vals = slices.Clone(vals)
		vals[span.Upper] = vals[span.Lower]
	}
	return nil, true
}

// templateKey appends to a statement's text what changes its meaning:
// the schema, the user and the sql_mode.
func (s *Session) templateKey(key []byte, mode parser.Mode) []byte {
	key = append(append(append(append(append(key, 0), s.schema...), 0), s.user.Name...), 0, byte(mode))
	// The rows' charset decides how the merge orders strings.
	return append(key, s.modeCache.results...)
}

// values are the values of the literals (texts), in text order.
func (c *templateState) values() []any {
	vals := make([]any, len(c.texts))
	for i, l := range c.texts {
		vals[i] = parser.LiteralValue(l)
	}
	return vals
}

// templateState is a session's reusable plan cache buffers.
type templateState struct {
	key   []byte
	lits  []parser.Literal
	texts []string
	vals  []any // the values of the literals that pick the shard
	buf   []byte
	plan  router.Plan
	route router.Route
}
