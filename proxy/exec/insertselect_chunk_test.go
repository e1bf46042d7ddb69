package exec

import (
	"strings"
	"testing"

	"github.com/shardgate/shardgate/router"
)

// TestCopierChunks: a target's rows go out in INSERTs of about copyChunk
// bytes, each its head, tuples and tail, none lost or repeated.
func TestCopierChunks(t *testing.T) {
	is := &router.InsertSelect{Targets: []router.InsertTarget{
		{Node: "n0", Head: "INSERT INTO `t_0` (`a`) VALUES ", Tail: " ON DUPLICATE KEY UPDATE `a`=VALUES(`a`)"},
		{Node: "n1", Head: "INSERT INTO `t_1` (`a`) VALUES ", Tail: ""},
	}}
	cp := copier{is: is, chunks: make([][]string, 2), open: make([][]byte, 2)}
	tuple := []byte("('" + strings.Repeat("x", 1000) + "')")
	const rows = 1000
	for i := 0; i < rows; i++ {
		cp.add(i%2, tuple)
	}
	for tg := range is.Targets {
		if len(cp.open[tg]) > 0 {
			cp.chunks[tg] = append(cp.chunks[tg], string(append(cp.open[tg], is.Targets[tg].Tail...)))
		}
		n := 0
		for _, sql := range cp.chunks[tg] {
			if !strings.HasPrefix(sql, is.Targets[tg].Head) || !strings.HasSuffix(sql, is.Targets[tg].Tail) {
				t.Fatalf("target %d: an INSERT without its head or tail: %.60q", tg, sql)
			}
			if len(sql) > copyChunk+len(is.Targets[tg].Head)+len(is.Targets[tg].Tail) {
				t.Errorf("target %d: an INSERT of %d bytes, over the chunk", tg, len(sql))
			}
			n += strings.Count(sql, string(tuple))
		}
		if n != rows/2 || len(cp.chunks[tg]) < 2 {
			t.Errorf("target %d: %d rows in %d INSERTs, want %d in several", tg, n, len(cp.chunks[tg]), rows/2)
		}
	}
	if want := rows * (len(tuple) + 2); cp.held != want {
		t.Errorf("held %d bytes, want %d", cp.held, want)
	}
}
