package session

import (
	"testing"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/proxy/backend"
)

// wantState keeps one state per recent schema, made of the current vars.
func TestWantStateCache(t *testing.T) {
	p := newBenchProxy(t, "shop", benchClientCaps)
	s := p.sess
	a, b := s.wantState("shop_0"), s.wantState("shop_1")
	if a.Schema != "shop_0" || b.Schema != "shop_1" || !a.WithSchema("").Equal(s.vars) {
		t.Fatalf("states %+v %+v", a, b)
	}
	if s.wantState("shop_0") != a || s.wantState("shop_1") != b {
		t.Fatal("a schema seen lately gets the same state")
	}
	for _, db := range []string{"x", "y", "z", "w"} {
		if st := s.wantState(db); st.Schema != db {
			t.Fatalf("%s: %+v", db, st)
		}
	}
	if st := s.wantState("shop_0"); st == a || st.Schema != "shop_0" {
		t.Fatal("an evicted schema gets a new state")
	}
	s.vars = s.vars.With(false, backend.Var{Name: "sql_mode", Value: "ANSI_QUOTES"})
	st := s.wantState("shop_1")
	if st == b || st.Schema != "shop_1" || !st.WithSchema("").Equal(s.vars) {
		t.Fatal("new vars make new states")
	}
}

// mode follows the session's sql_mode.
func TestModeCache(t *testing.T) {
	p := newBenchProxy(t, "shop", benchClientCaps)
	s := p.sess
	if m := s.mode(); m&parser.ModeANSIQuotes != 0 {
		t.Fatalf("server default mode: %v", m)
	}
	s.vars = s.vars.With(false, backend.Var{Name: "sql_mode", Value: "ANSI_QUOTES"})
	if m := s.mode(); m&parser.ModeANSIQuotes == 0 {
		t.Fatalf("after SET sql_mode: %v", m)
	}
	s.vars = s.vars.With(false, backend.Var{Name: "sql_mode", Value: "NO_BACKSLASH_ESCAPES"})
	if m := s.mode(); m&parser.ModeANSIQuotes != 0 || m&parser.ModeNoBackslashEscapes == 0 {
		t.Fatalf("after another SET sql_mode: %v", m)
	}
}
