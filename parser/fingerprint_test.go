package parser

import "testing"

func TestFingerprint(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT * FROM `Orders` WHERE id IN (1, 2, 3) /* x */", "select * from orders where id in(?+)"},
		{"select * from orders where id in (7)", "select * from orders where id in(?+)"},
		{"SELECT c FROM sbtest1 WHERE id=50123", "select c from sbtest1 where id = ?"},
		{"select c from sbtest1 where id = -5", "select c from sbtest1 where id = ?"},
		{"select a-1 from t", "select a - ? from t"},
		{"INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'),(3,NULL)", "insert into t(a, b) values(?+), (?, null)"},
		{"INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", "insert into t(a, b) values(?+)"},
		{"update t set a = 'it''s' where s.id = ? limit 10", "update t set a = ? where s.id = ? limit ?"},
		{"select count(*) from t where x > 0.5e3 and y like 'a%'", "select count(*) from t where x > ? and y like ?"},
		{"/*+ shardgate:primary */ SELECT @@version, @x := 1", "select @@version, @x := ?"},
		{"delete from t", "delete from t"},
		{"SELECT SLEEP(0.3), f(1, 2), x IN (1) FROM t WHERE b IN (?, ?)", "select sleep(?), f(?+), x in(?+) from t where b in(?+)"},
		{"create table t (a varchar(20), b decimal(10, 2))", "create table t(a varchar(?), b decimal(?+))"},
	} {
		got := Fingerprint(tc.in)
		if got != tc.want {
			t.Errorf("Fingerprint(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if h := FingerprintHash(tc.in); h != HashFingerprint(got) {
			t.Errorf("hash of %q differs from the hash of its text", tc.in)
		}
		// A fingerprint is its own fingerprint: rules are written as text.
		if again := Fingerprint(got); again != got {
			t.Errorf("Fingerprint(%q) = %q: not idempotent", got, again)
		}
	}
	if FingerprintHash("select * from t where id = 1") != FingerprintHash("SELECT *  FROM T WHERE ID=2") {
		t.Error("same shape, different hashes")
	}
}

func TestFingerprintHashAllocs(t *testing.T) {
	sql := "SELECT c FROM sbtest1 WHERE id IN (1, 2, 3) AND k = 'x'"
	if n := testing.AllocsPerRun(100, func() { FingerprintHash(sql) }); n != 0 {
		t.Errorf("FingerprintHash allocates %v times", n)
	}
}

func BenchmarkFingerprintHash(b *testing.B) {
	sql := "SELECT c FROM sbtest1 WHERE id=50123"
	for i := 0; i < b.N; i++ {
		FingerprintHash(sql)
	}
}
