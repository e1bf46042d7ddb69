package exec

import (
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
)

// WriteResultStatus is WriteResult (kept for callers that name the status).
func WriteResultStatus(cli *Client, cols []wire.Column, rows [][]any, status uint16) {
	WriteResult(cli, cols, rows, status)
}

// WriteResult sends a result set the proxy made up itself, its rows in
// the binary protocol when cli.BinaryRows (a prepared statement's).
// Values may be nil (NULL), string, []byte, int, int64, uint64 or float64.
func WriteResult(cli *Client, cols []wire.Column, rows [][]any, status uint16) {
	status = cli.status(status)
	c := cli.Conn
	defs := make([][]byte, len(cols))
	for i := range cols {
		defs[i] = wire.AppendColumnDef(nil, &cols[i])
	}
	text := make([][]byte, len(rows))
	for i, row := range rows {
		for _, v := range row {
			text[i] = appendTextValue(text[i], v)
		}
		if text[i] == nil {
			text[i] = []byte{}
		}
	}
	if cli.BinaryRows {
		// Converted before anything is sent: a value that does not
		// convert gets an error instead.
		if err := BinaryRows(defs, text); err != nil {
			c.WritePacket(wire.AppendErr(nil, mysql.NewError(mysql.ER_UNKNOWN_ERROR, "shardgate: "+err.Error())))
			return
		}
	}
	c.WritePacket(wire.AppendLenEnc(nil, uint64(len(cols))))
	for _, d := range defs {
		c.WritePacket(d)
	}
	var b []byte
	if !cli.DeprecateEOF {
		c.WritePacket(wire.AppendEOF(b[:0], 0, status&^mysql.SERVER_MORE_RESULTS_EXISTS))
	}
	for _, row := range text {
		c.WritePacket(row)
	}
	if cli.DeprecateEOF {
		ok := wire.OK{Status: status}
		c.WritePacket(wire.AppendOK(b[:0], wire.EOFHeader, &ok, cli.SessionTrack))
	} else {
		c.WritePacket(wire.AppendEOF(b[:0], 0, status))
	}
}

func appendTextValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 0xfb)
	case string:
		return wire.AppendLenEncString(b, x)
	case []byte:
		return wire.AppendLenEncBytes(b, x)
	case int:
		return wire.AppendLenEncString(b, strconv.Itoa(x))
	case int64:
		return wire.AppendLenEncString(b, strconv.FormatInt(x, 10))
	case uint64:
		return wire.AppendLenEncString(b, strconv.FormatUint(x, 10))
	case uint32:
		return wire.AppendLenEncString(b, strconv.FormatUint(uint64(x), 10))
	case float64:
		return wire.AppendLenEncString(b, strconv.FormatFloat(x, 'f', -1, 64))
	case bool:
		if x {
			return wire.AppendLenEncString(b, "1")
		}
		return wire.AppendLenEncString(b, "0")
	}
	return append(b, 0xfb)
}

// TextColumn describes a VARCHAR result column.
func TextColumn(name string) wire.Column {
	return wire.Column{Name: name, OrgName: name, Charset: 45, Length: 1024, Type: mysql.MYSQL_TYPE_VAR_STRING}
}

// IntColumn describes a BIGINT result column.
func IntColumn(name string) wire.Column {
	return wire.Column{Name: name, OrgName: name, Charset: 63, Length: 21, Type: mysql.MYSQL_TYPE_LONGLONG, Flags: mysql.BINARY_FLAG}
}
