package server

import (
	"encoding/binary"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The handshake response and COM_CHANGE_USER come from a client that has
// not authenticated yet: any bytes must give a response or ErrMalformed,
// never a panic, and what is parsed stays inside the packet.
func FuzzParseResponse(f *testing.F) {
	caps := uint32(mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_CONNECT_WITH_DB |
		mysql.CLIENT_PLUGIN_AUTH | mysql.CLIENT_CONNECT_ATTRS)
	head := func(c uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, c)
		b = append(b, 0, 0, 0, 1, 45)
		return append(b, make([]byte, 23)...)
	}
	f.Add(append(head(caps), "app\x00\x14aaaaaaaaaaaaaaaaaaaa"+"shop\x00mysql_native_password\x00\x0a\x03_os\x05Linux"...))
	f.Add(append(head(caps|mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA), "app\x00\xfc\xff\xff"...))
	f.Add(append(head(caps), "app\x00\xff"...))
	f.Add(append(head(caps), "app\x00\x00shop"...))
	f.Add(append(head(caps), "app\x00\x00\x00plugin"...))
	f.Add(append(head(caps), "app\x00\x00\x00\x00\xfe\xff\xff\xff\xff\xff\xff\xff\x7f"...))
	f.Add(append(head(0), "app\x00secret"...))
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := parseResponse(p)
		if err == nil && len(r.user)+len(r.auth)+len(r.db)+len(r.plugin) > len(p) {
			t.Fatalf("parsed more than the packet holds: %+v", r)
		}
	})
}

func FuzzParseChangeUser(f *testing.F) {
	caps := uint32(mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_PLUGIN_AUTH | mysql.CLIENT_CONNECT_ATTRS)
	f.Add([]byte("app\x00\x14aaaaaaaaaaaaaaaaaaaashop\x00\x2d\x00mysql_native_password\x00\x03\x01a\x00"), caps)
	f.Add([]byte("app\x00\x30a"), caps)
	f.Add([]byte("app\x00"), caps)
	f.Add([]byte("app\x00secret\x00shop"), uint32(0))
	f.Add([]byte{}, caps)
	f.Fuzz(func(t *testing.T, p []byte, caps uint32) {
		r, err := parseChangeUser(p, caps)
		if err == nil && len(r.user)+len(r.auth)+len(r.db)+len(r.plugin) > len(p) {
			t.Fatalf("parsed more than the packet holds: %+v", r)
		}
	})
}
