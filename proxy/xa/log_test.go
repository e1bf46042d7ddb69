package xa

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestLogDecisionsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xa.log")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"sg-a", "sg-b", "sg-c"} {
		if err := l.Commit(g); err != nil {
			t.Fatal(err)
		}
	}
	l.Done("sg-b")
	l.Done("sg-unknown") // never decided: nothing to forget
	// A crash: the file as it is, Done of sg-b possibly unsynced; here it
	// was not written at all (no Close).
	l2, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	for g, want := range map[string]bool{"sg-a": true, "sg-b": true, "sg-c": true, "sg-d": false} {
		if l2.Committed(g) != want {
			t.Errorf("after reopen, Committed(%s) = %v, want %v", g, !want, want)
		}
	}
	l2.Done("sg-b")
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	l3, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := l3.Pending(); fmt.Sprint(got) != "[sg-a sg-c]" {
		t.Errorf("after a clean close, pending %v, want [sg-a sg-c]", got)
	}
}

func TestLogTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xa.log")
	if err := os.WriteFile(path, []byte("C sg-1\nC sg-2\nD sg-1\nC"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Pending(); fmt.Sprint(got) != "[sg-2]" {
		t.Errorf("pending %v, want [sg-2]", got)
	}
	// The file was compacted on open.
	data, _ := os.ReadFile(path)
	if string(data) != "N "+l.Node()+"\nC sg-2\n" {
		t.Errorf("compacted file %q", data)
	}
}

func TestLogGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xa.log")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const writers, each = 16, 200
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				g := fmt.Sprintf("sg-%d-%d", w, i)
				if err := l.Commit(g); err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					l.Done(g)
				}
			}
		}(w)
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := l2.Pending(); len(p) != writers*each/2 {
		t.Errorf("%d decisions pending after reopen, want %d", len(p), writers*each/2)
	}
	if !l2.Committed("sg-3-1") || l2.Committed("sg-3-2") {
		t.Errorf("wrong decisions after reopen")
	}
}

func TestLogFailureIsSticky(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xa.log")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	l.f.Close() // writes now fail
	if err := l.Commit("sg-x"); err == nil {
		t.Fatal("a commit whose record cannot be written must fail")
	}
	if l.Committed("sg-x") {
		t.Error("a failed decision must not count as committed")
	}
	if err := l.Commit("sg-y"); err == nil {
		t.Fatal("after a failure, no decision can be trusted to disk")
	}
}

func TestFaultSpec(t *testing.T) {
	for in, want := range map[string]string{"": " 1", "xa-after-prepare": "xa-after-prepare 1", "xa-after-decision:7": "xa-after-decision 7", "x:0": "x 1"} {
		p, n := parseFault(in)
		if got := fmt.Sprintf("%s %d", p, n); got != want {
			t.Errorf("parseFault(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCoordinatorNames(t *testing.T) {
	co := NewCoordinator("t", &Log{node: "t"})
	a, b := co.Begin(), co.Begin()
	if a == b || !Ours(a) || len(a) > 64 {
		t.Fatalf("gtrids %q %q", a, b)
	}
	if !co.Running(a) {
		t.Fatal("a begun transaction is running")
	}
	co.End(a)
	if co.Running(a) || !co.Running(b) {
		t.Fatal("End marks only its transaction finished")
	}
	if Ours("app-tx-1") {
		t.Fatal("another coordinator's transaction is not ours")
	}
}

func TestLogKeepsNodeName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xa.log")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	name := l.Node()
	l.Close()
	l2, err := OpenLog(path)
	if err != nil || l2.Node() != name || name == "" {
		t.Fatalf("node name %q, then %q (%v)", name, l2.Node(), err)
	}
	co := NewCoordinator(l2.Node(), l2)
	g := co.Begin()
	if !co.Owns(g, nil) || NewCoordinator("other", &Log{node: "other"}).Owns(g, nil) {
		t.Fatalf("%s: owned by its coordinator only", g)
	}
}

func TestOwnsDeadNodes(t *testing.T) {
	co := NewCoordinator("me", &Log{node: "me"})
	alive := map[string]bool{"me": true, "b": true}
	for _, c := range []struct {
		gtrid string
		alive map[string]bool
		want  bool
	}{
		{"sg-me-x-1-1", nil, true},
		{"sg-b-x-1-1", nil, false},       // single node: only its own
		{"sg-b-x-1-1", alive, false},     // a live node resolves its own
		{"sg-dead-x-1-1", alive, true},   // a dead node's: anyone
		{"other-dead-x-1", alive, false}, // not shardgate's
	} {
		if got := co.Owns(c.gtrid, c.alive); got != c.want {
			t.Errorf("Owns(%s, %v) = %v, want %v", c.gtrid, c.alive, got, c.want)
		}
	}
}
