package session

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/stats"
	"github.com/shardgate/shardgate/router"
)

// The per-statement hook: the SQL firewall in front of COM_QUERY and
// COM_STMT_EXECUTE, statistics (by kind, by fingerprint, per backend
// server) and the slow-query log after them. With no firewall rule for the
// user it costs two clock reads, a fingerprint hash and some atomic adds;
// it allocates only for a new fingerprint or a slow statement.

// observation is what the hook learns while a statement runs.
type observation struct {
	shards int                // backend connections the statement took
	srv    *stats.ServerStats // the last server it used
}

// noteServer counts a backend connection taken for the running statement.
func (s *Session) noteServer(srv *backend.Server) {
	st := s.env.Snap.Load().Stats
	if st == nil {
		return
	}
	s.obs.shards++
	s.obs.srv = st.Server(srv.Addr)
	s.obs.srv.Statements.Add(1)
}

// observeQuery answers COM_QUERY through the firewall and the statistics.
func (s *Session) observeQuery(p []byte) error {
	snap := s.env.Snap.Load()
	var fw *stats.Firewall
	if snap.Firewalls != nil {
		fw = snap.Firewalls[s.user.Name]
	}
	st := snap.Stats
	if st == nil && fw == nil {
		return s.comQuery(p)
	}
	sql := unsafe.String(unsafe.SliceData(p[1:]), len(p)-1)
	if isLoad(sql) {
		// LOAD DATA LOCAL reads the file from the client into the buffer
		// sql points into.
		sql = strings.Clone(sql)
	}
	if fw != nil {
		if e := s.screen(fw, sql, snap); e != nil {
			if st != nil {
				st.Denied.Add(1)
			}
			return s.writeErr(e)
		}
	}
	if st == nil {
		return s.comQuery(p)
	}
	s.obs = observation{}
	s.fps.sql = ""
	s.c.StartAnswer()
	start := time.Now()
	err := s.comQuery(p)
	s.record(st, sql, s.fps.of(sql), s.sum.Kind, time.Since(start))
	return err
}

// observeExecute answers COM_STMT_EXECUTE through the firewall and the
// statistics, under the prepared statement's SQL.
func (s *Session) observeExecute(p []byte) error {
	snap := s.env.Snap.Load()
	var fw *stats.Firewall
	if snap.Firewalls != nil {
		fw = snap.Firewalls[s.user.Name]
	}
	st := snap.Stats
	var ps *stmt
	if len(p) >= 5 {
		ps = s.stmts[binary.LittleEndian.Uint32(p[1:5])]
	}
	if ps == nil || st == nil && fw == nil {
		return s.stmtExecute(p)
	}
	if fw != nil {
		if e := fw.Check(ps.sql, ps.sum.Kind); e != nil {
			if st != nil {
				st.Denied.Add(1)
			}
			return s.writeErr(e)
		}
	}
	if st == nil {
		return s.stmtExecute(p)
	}
	s.obs = observation{}
	s.c.StartAnswer()
	start := time.Now()
	err := s.stmtExecute(p)
	if ps.fpSQL != ps.sql { // (a pass-through text naming DATABASE() changes with USE)
		ps.fpSQL, ps.fpHash = ps.sql, parser.FingerprintHash(ps.sql)
	}
	s.record(st, ps.sql, ps.fpHash, ps.sum.Kind, time.Since(start))
	return err
}

// fingerprintMemo spares the statistics a lexing of each statement the
// plan cache has read already: it remembers the fingerprint hash of each
// shape (template and literal kinds, which give every text of the shape
// one fingerprint) the session met.
type fingerprintMemo struct {
	sql     string // the running statement's text, when noted ("" else)
	hash    uint64 // ...and its fingerprint hash
	byShape map[string]uint64
	key     []byte
}

// maxFingerprintShapes bounds a session's memo; past it, it starts over.
const maxFingerprintShapes = 256

// note remembers the hash of sql, whose template key and literals the
// plan cache found.
func (m *fingerprintMemo) note(sql string, key []byte, lits []parser.Literal) {
	// The literals' kinds first, counted: no two shapes share a key.
	m.key = append(m.key[:0], byte(len(lits)>>8), byte(len(lits)))
	for _, l := range lits {
		m.key = append(m.key, byte(l.Kind))
	}
	m.key = append(m.key, key...)
	h, ok := m.byShape[string(m.key)]
	if !ok {
		h = parser.FingerprintHash(sql)
		if len(m.byShape) >= maxFingerprintShapes || m.byShape == nil {
			m.byShape = map[string]uint64{}
		}
		m.byShape[string(m.key)] = h
	}
	m.sql, m.hash = sql, h
}

// of returns the hash noted for sql, or 0 (the statistics compute it).
func (m *fingerprintMemo) of(sql string) uint64 {
	if m.sql != sql {
		return 0
	}
	return m.hash
}

// record accounts a statement that ran.
func (s *Session) record(st *stats.Stats, sql string, hash uint64, kind parser.Kind, d time.Duration) {
	code, rows := s.c.Answer(!s.cli.DeprecateEOF)
	if code != 0 && s.obs.srv != nil {
		s.obs.srv.Errors.Add(1)
	}
	x := stats.Sample{SQL: sql, Hash: hash, Kind: kind, Dur: d, ErrCode: code, Rows: rows, Shards: s.obs.shards, Session: s.ID}
	if d >= st.SlowThreshold() {
		x.User, x.Schema = s.user.Name, s.schema
	}
	st.Record(&x)
}

func isLoad(sql string) bool {
	l := parser.NewLexer(sql)
	t := l.Next()
	return t.Kind == parser.TokIdent && parser.EqualFold(l.Text(t), "LOAD")
}

// screen runs the firewall over each statement of a query text.
func (s *Session) screen(fw *stats.Firewall, sql string, snap *snapshot.Snapshot) *mysql.MyError {
	var sum parser.Summary
	for off := 0; off < len(sql); {
		text := sql[off:]
		parser.ScanOne(text, &sum)
		if sum.Next != 0 {
			text = text[:sum.Next]
		}
		if e := fw.Check(text, sum.Kind); e != nil {
			return e
		}
		if fw.Guard && sum.Kind == parser.KindSelect {
			if e := s.scatterGuard(fw, text, snap); e != nil {
				return e
			}
		}
		if sum.Next == 0 {
			break
		}
		off += sum.Next
	}
	return nil
}

// scatterGuard refuses a read that would visit every shard of a table
// marked no_scatter. It plans the statement, which costs a parse: it runs
// only for guarded users, and only when the text names such a table.
func (s *Session) scatterGuard(fw *stats.Firewall, sql string, snap *snapshot.Snapshot) *mysql.MyError {
	if !s.sharded(snap) {
		return nil
	}
	named := false
	for _, ls := range snap.Schemas {
		for _, t := range ls.Conf.Tables {
			if t.NoScatter && strings.Contains(sql, t.Name) {
				named = true
			}
		}
	}
	if !named {
		return nil
	}
	stmts, err := parser.ParseMode(sql, s.mode())
	if err != nil || len(stmts) != 1 {
		return nil // the statement itself reports it
	}
	env := s.routerEnv(snap)
	plan, err := router.Build(stmts[0], env)
	if err != nil {
		return nil
	}
	shards := map[string]bool{}
	for _, r := range router.AppendRoutes(nil, plan.Root) {
		for _, sh := range strings.Split(r.Shard, ",") {
			if sh != "" {
				shards[sh] = true
			}
		}
	}
	schema := env.Schema
	if schema == "" && len(s.user.Schemas) > 0 {
		schema = s.user.Schemas[0]
	}
	ls := snap.Schemas[schema]
	rules := snap.Rules[schema]
	if ls == nil || rules == nil {
		return nil
	}
	for _, name := range plan.Tables {
		ct := ls.Conf.Table(name)
		rule := rules.Tables[name]
		if ct == nil || rule == nil || !ct.NoScatter || rule.Shards < 2 {
			continue
		}
		all := true
		for i := 0; i < rule.Shards; i++ {
			if !shards[strconv.Itoa(i)] {
				all = false
				break
			}
		}
		if all {
			return fw.NoScatter(name, rule.Shards)
		}
	}
	return nil
}

// Backend returns the backend connection the session's running statement
// uses now, nil when none (for the admin console).
func (s *Session) Backend() *backend.Conn { return s.active.Load() }
