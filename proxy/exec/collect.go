package exec

import (
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router"
	"github.com/shardgate/shardgate/router/merge"
)

// Collect runs a read plan for the proxy itself (a subquery it runs
// first): each row's values go to row (a value is nil for NULL; both are
// valid until the next row), nothing to the client. row returning false
// stops the reading. The caller bounds what it keeps.
func Collect(cli *Client, p *router.Plan, conns Conns, tr Tracker, row func(fields []merge.Field, vals [][]byte) (more bool, err error)) error {
	_, err := collect(cli, p, conns, tr, row)
	return err
}

// CollectFields is Collect that also returns the result's fields (each
// Def a copy), even without rows.
func CollectFields(cli *Client, p *router.Plan, conns Conns, tr Tracker, row func(fields []merge.Field, vals [][]byte) (more bool, err error)) ([]merge.Field, error) {
	return collect(cli, p, conns, tr, row)
}

func collect(cli *Client, p *router.Plan, conns Conns, tr Tracker, row func(fields []merge.Field, vals [][]byte) (more bool, err error)) ([]merge.Field, error) {
	if p.Write {
		return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: the proxy's own read planned a write")
	}
	if cli.prefix = planPrefix(cli, p); cli.prefix != "" {
		defer func() { cli.prefix = "" }()
	}
	m, err := openMerge(cli, p.Root, conns, tr, nil)
	if err != nil {
		return nil, err
	}
	defer m.close()
	fields := m.top.Fields()
	if m.top.Binary() {
		return nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: the proxy's own read got binary rows")
	}
	kept := make([]merge.Field, len(fields))
	for i, f := range fields {
		kept[i] = f
		kept[i].Def = append([]byte(nil), f.Def...)
		kept[i].Name = strings.Clone(f.Name)
	}
	vals := make([][]byte, len(fields))
	for {
		r, err := m.top.Next()
		if err != nil || r == nil {
			return kept, err
		}
		if err := textValues(r, vals); err != nil {
			return kept, err
		}
		if more, err := row(fields, vals); err != nil || !more {
			return kept, err
		}
	}
}

// textValues splits a text-protocol row into its columns' contents (nil
// for NULL, never for an empty string); vals has a slot per column.
func textValues(row []byte, vals [][]byte) error {
	for i, pos := 0, 0; i < len(vals); i++ {
		v, null, n := wire.ReadLenEncBytes(row[pos:])
		if n == 0 {
			return &BackendError{Err: wire.ErrMalformed}
		}
		pos += n
		if null {
			v = nil
		} else if v == nil {
			v = []byte{}
		}
		vals[i] = v
	}
	return nil
}

// AppendTextRow appends a text-protocol row of column contents (nil is
// NULL): textValues' inverse.
func AppendTextRow(b []byte, vals [][]byte) []byte {
	for _, v := range vals {
		if v == nil {
			b = append(b, 0xfb)
		} else {
			b = wire.AppendLenEncBytes(b, v)
		}
	}
	return b
}
