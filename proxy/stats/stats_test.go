package stats

import (
	"fmt"
	"testing"
	"time"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/parser"
)

func TestRecord(t *testing.T) {
	st := New(nil, 50*time.Millisecond)
	for i := 0; i < 100; i++ {
		st.Record(&Sample{SQL: fmt.Sprintf("SELECT * FROM t WHERE id = %d", i), Kind: parser.KindSelect, Dur: time.Duration(i+1) * time.Millisecond / 10, Rows: 1, Shards: 1})
	}
	st.Record(&Sample{SQL: "DELETE FROM t WHERE id = 5", Kind: parser.KindDelete, Dur: 800 * time.Millisecond, ErrCode: 1146, Session: 7, User: "app", Schema: "shop"})
	fps := st.Fingerprints()
	if len(fps) != 2 {
		t.Fatalf("fingerprints: %+v", fps)
	}
	var sel FingerprintRow
	for _, f := range fps {
		if f.Kind == "select" {
			sel = f
		}
	}
	if sel.Text != "select * from t where id = ?" || sel.Count != 100 || sel.Rows != 100 || sel.AvgShards != 1 {
		t.Errorf("select: %+v", sel)
	}
	if sel.Max != 10*time.Millisecond || sel.P99 < 8*time.Millisecond || sel.P99 > sel.Max {
		t.Errorf("p99 %v max %v", sel.P99, sel.Max)
	}
	if fps[0].Kind != "delete" || fps[0].Errors != 1 {
		t.Errorf("largest total first: %+v", fps[0])
	}
	k := st.Kind(parser.KindSelect)
	if k.Count.Load() != 100 || k.Buckets[0].Load() != 5 { // <= 0.5 ms: 0.1 .. 0.5
		t.Errorf("kind: %d %d", k.Count.Load(), k.Buckets[0].Load())
	}
	slow := st.SlowQueries()
	if len(slow) != 1 || slow[0].Session != 7 || slow[0].User != "app" || slow[0].ErrCode != 1146 {
		t.Errorf("slow: %+v", slow)
	}
	st.Reset()
	if len(st.Fingerprints()) != 0 || len(st.SlowQueries()) != 0 {
		t.Error("reset")
	}
}

func TestSlowRingOrder(t *testing.T) {
	st := New(nil, 0)
	for i := 0; i < SlowRing+10; i++ {
		st.Record(&Sample{SQL: fmt.Sprintf("SELECT %d", i), Kind: parser.KindSelect, Dur: time.Millisecond})
	}
	s := st.SlowQueries()
	if len(s) != SlowRing || s[0].SQL != fmt.Sprintf("SELECT %d", SlowRing+9) || s[len(s)-1].SQL != "SELECT 10" {
		t.Errorf("ring: %d, first %q, last %q", len(s), s[0].SQL, s[len(s)-1].SQL)
	}
}

func TestFingerprintCap(t *testing.T) {
	st := New(nil, time.Hour)
	for i := 0; i < MaxFingerprints+50; i++ {
		st.Record(&Sample{SQL: fmt.Sprintf("SELECT c%d FROM t", i), Kind: parser.KindSelect, Dur: time.Microsecond})
	}
	fps := st.Fingerprints()
	if len(fps) != MaxFingerprints+1 {
		t.Fatalf("%d fingerprints kept", len(fps))
	}
	var other uint64
	for _, f := range fps {
		if f.Kind == "other" {
			other = f.Count
		}
	}
	if other != 50 {
		t.Errorf("other: %d", other)
	}
}

func TestRecordAllocs(t *testing.T) {
	st := New(nil, time.Hour)
	x := Sample{SQL: "SELECT c FROM sbtest1 WHERE id = 5", Kind: parser.KindSelect, Dur: time.Millisecond}
	st.Record(&x)
	srv := st.Server("127.0.0.1:1")
	if n := testing.AllocsPerRun(100, func() {
		st.Record(&x)
		st.Server("127.0.0.1:1").Statements.Add(1)
	}); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
	if srv.Statements.Load() != 101 {
		t.Errorf("server count %d", srv.Statements.Load())
	}
}

func TestRate(t *testing.T) {
	st := New(nil, time.Hour)
	s := st.Server("a")
	now := time.Now()
	for i := 0; i < 4; i++ {
		s.Statements.Add(100)
		s.rate.sample(now.Add(time.Duration(i)*time.Second), s.Statements.Load())
	}
	if q := s.QPS(); q != 100 {
		t.Errorf("qps %v", q)
	}
}

func TestFirewall(t *testing.T) {
	u := &conf.User{Name: "app", Guard: true, Deny: []conf.DenyRule{{Kind: "truncate"}, {Fingerprint: "select * from t where id = ?"}}}
	fw := CompileFirewall(u)
	for _, tc := range []struct {
		sql  string
		kind parser.Kind
		want string // "" allowed
	}{
		{"TRUNCATE TABLE t", parser.KindTruncate, "deny rule 1 (kind: truncate)"},
		{"SELECT * FROM t WHERE id = 42", parser.KindSelect, "deny rule 2"},
		{"SELECT a FROM t WHERE id = 42", parser.KindSelect, ""},
		{"DELETE FROM t", parser.KindDelete, "guard refuses DELETE without WHERE"},
		{"UPDATE t SET a = (SELECT b FROM u WHERE u.id = 1)", parser.KindUpdate, "guard refuses UPDATE"},
		{"UPDATE t SET a = 1 WHERE id = 2", parser.KindUpdate, ""},
	} {
		e := fw.Check(tc.sql, tc.kind)
		switch {
		case tc.want == "" && e != nil:
			t.Errorf("%s: refused: %v", tc.sql, e)
		case tc.want != "" && (e == nil || e.Code != 1105 || !contains(e.Message, tc.want)):
			t.Errorf("%s: got %v, want %q", tc.sql, e, tc.want)
		}
	}
	if CompileFirewall(&conf.User{Name: "x"}) != nil {
		t.Error("no rules, no firewall")
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// BenchmarkRecord is the per-statement cost of the statistics for a known
// fingerprint (a sysbench point select), with the per-server count.
func BenchmarkRecord(b *testing.B) {
	st := New(nil, time.Hour)
	x := Sample{SQL: "SELECT c FROM sbtest1 WHERE id=50123", Kind: parser.KindSelect, Dur: 80 * time.Microsecond, Rows: 1, Shards: 1}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			st.Server("127.0.0.1:13306").Statements.Add(1)
			st.Record(&x)
		}
	})
}
