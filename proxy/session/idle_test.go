package session

import "testing"

// The idle sweep ends a wait only past wait_timeout, counted in its
// ticks: the wait began between tick since and the next one, so at
// since+limit it may have lasted less than limit seconds.
func TestIdleTooLong(t *testing.T) {
	s := &Session{}
	s.idleLimit.Store(3)
	s.Idle(5)
	if s.IdleTooLong(8) {
		t.Fatal("ended at since+limit: the wait may be shorter than wait_timeout")
	}
	if !s.IdleTooLong(9) {
		t.Fatal("not ended past since+limit")
	}
	if s.IdleTooLong(10) {
		t.Fatal("ended twice")
	}
	if s.Busy(1) {
		t.Fatal("a command after the sweep ended the session was served")
	}

	// A command that arrives first keeps the session.
	s.Idle(20)
	if !s.Busy(1) {
		t.Fatal("a command before the sweep was refused")
	}
	if s.IdleTooLong(100) {
		t.Fatal("ended a session that answers a command")
	}
}
