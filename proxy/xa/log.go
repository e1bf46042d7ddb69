// Package xa is the coordinator side of distributed transactions: XA
// transaction ids, the durable log of commit decisions, the fault hooks
// that tests use to kill the coordinator at chosen points, and the
// recovery that resolves branches left prepared by a crash.
package xa

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/shardgate/shardgate/proxy/backend"
)

// The decision log is a text file of records, one a line:
//
//	C <gtrid>   the transaction commits (written and fsync'd before any
//	            branch is told to commit)
//	D <gtrid>   every branch committed; the decision may be forgotten
//	N <id>      the coordinator's name, made at the first start and kept:
//	            a proxy resolves only the transactions it named, so two
//	            proxies sharing servers never resolve each other's
//
// No record means rollback (presumed abort): a transaction is committed
// only if its C record reached the disk. Commits of concurrent sessions
// share one fsync (group commit).

// Log is the durable record of commit decisions.
type Log struct {
	path string
	node string // the coordinator's name (the N record)

	mu        sync.Mutex
	cond      *sync.Cond
	f         *os.File
	buf       []byte // records of the batch being filled
	spare     []byte
	batch     uint64 // number of the batch being filled
	synced    uint64 // last batch on disk
	leading   bool   // a writer is syncing a batch
	failed    error  // a write or sync failed: no decision can be trusted to disk any more
	committed map[string]struct{}
	size      int64 // bytes in the file, to know when to compact
}

// compactAt is the file size past which Done compacts the log.
const compactAt = 16 << 20

// OpenLog opens (or creates) the log and reads the decisions it holds.
func OpenLog(path string) (*Log, error) {
	l := &Log{path: path, batch: 1, committed: map[string]struct{}{}}
	l.cond = sync.NewCond(&l.mu)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 256), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) < 3 || line[1] != ' ' {
			continue // a torn last line: its batch was never acknowledged
		}
		g := string(line[2:])
		switch line[0] {
		case 'N':
			l.node = g
		case 'C':
			l.committed[g] = struct{}{}
		case 'D':
			delete(l.committed, g)
		}
	}
	if l.node == "" {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		l.node = hex.EncodeToString(b[:])
	}
	if err := l.rewrite(); err != nil {
		return nil, err
	}
	return l, nil
}

// Node is the coordinator's name kept in the log.
func (l *Log) Node() string { return l.node }

// rewrite replaces the file by the open decisions only; l.mu is held (or
// l is not shared yet).
func (l *Log) rewrite() error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "N %s\n", l.node)
	for _, g := range l.pendingLocked() {
		fmt.Fprintf(&b, "C %s\n", g)
	}
	if err := backend.WriteFileDurably(l.path, b.Bytes()); err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.size = f, int64(b.Len())
	return nil
}

func (l *Log) pendingLocked() []string {
	out := make([]string, 0, len(l.committed))
	for g := range l.committed {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

// Commit records that gtrid commits; it returns once the record is on
// disk. An error means the decision is not durable: roll back.
func (l *Log) Commit(gtrid string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed != nil {
		return l.failed
	}
	l.committed[gtrid] = struct{}{}
	l.buf = append(append(append(l.buf, 'C', ' '), gtrid...), '\n')
	mine := l.batch
	for l.synced < mine {
		if l.failed != nil {
			delete(l.committed, gtrid)
			return l.failed
		}
		if l.leading {
			l.cond.Wait()
			continue
		}
		// Lead: write and sync the batch being filled, with whatever
		// other sessions add meanwhile going to the next one.
		l.leading = true
		b := l.buf
		l.buf, l.spare = l.spare[:0], nil
		n := l.batch
		l.batch++
		l.mu.Unlock()
		_, err := l.f.Write(b)
		if err == nil {
			err = l.f.Sync()
		}
		l.mu.Lock()
		l.spare = b[:0]
		l.leading = false
		if err != nil {
			l.failed = fmt.Errorf("xa decision log %s: %w", l.path, err)
		} else {
			l.synced = n
			l.size += int64(len(b))
		}
		l.cond.Broadcast()
	}
	return nil
}

// Done records that every branch of gtrid committed. It is not synced: if
// it is lost, recovery finds nothing prepared for gtrid and drops it then.
func (l *Log) Done(gtrid string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.committed[gtrid]; !ok {
		return
	}
	delete(l.committed, gtrid)
	l.buf = append(append(append(l.buf, 'D', ' '), gtrid...), '\n')
	if l.size > compactAt && !l.leading && l.failed == nil {
		// Keep only the open decisions (a C record still unsynced stays
		// in committed, so the rewrite keeps it).
		l.buf = l.buf[:0]
		if err := l.rewrite(); err != nil {
			l.failed = fmt.Errorf("xa decision log %s: compacting: %w", l.path, err)
		}
	}
}

// Resolve implements Decisions: the log's decision, presumed abort.
func (l *Log) Resolve(gtrid string) (bool, error) { return l.Committed(gtrid), nil }

// Committed reports whether the log holds a commit decision for gtrid.
func (l *Log) Committed(gtrid string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.committed[gtrid]
	return ok
}

// Pending lists the transactions decided to commit whose branches are not
// all known to be committed.
func (l *Log) Pending() ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pendingLocked(), nil
}

// Close flushes Done records and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.leading {
		l.cond.Wait()
	}
	if len(l.buf) > 0 && l.failed == nil {
		_, _ = l.f.Write(l.buf)
		_ = l.f.Sync()
		l.buf = l.buf[:0]
	}
	return l.f.Close()
}
