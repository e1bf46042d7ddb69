package server

import (
	"bytes"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/binary"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/backend"
	"github.com/shardgate/shardgate/proxy/session"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
)

const testConfig = `
users: [{name: u, password: secret, schemas: [s]}, {name: e, schemas: [s]}]
data_hosts: [{name: h, user: x, password: x, primary: "127.0.0.1:1"}]
data_nodes: [{name: n, host: h, database: s}]
schemas: [{name: s, default_node: n}]
`

// startServer serves the handshake and locally answered commands; no
// backend is ever dialed.
func startServer(t *testing.T) string {
	t.Helper()
	addr, _ := startServerHolder(t)
	return addr
}

// startServerHolder is startServer that also returns the server's snapshot holder.
func startServerHolder(t *testing.T) (string, *snapshot.Holder) {
	t.Helper()
	c, err := conf.Parse("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.New(c, backend.NewCluster(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	var h snapshot.Holder
	h.Store(snap)
	tlsConf, err := TLSConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(slog.New(slog.NewTextHandler(io.Discard, nil)), &h, session.NewRegistry(), tlsConf)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), &h
}

func TestNativePasswordWithDriver(t *testing.T) {
	addr := startServer(t)
	for _, c := range []struct {
		dsn  string
		code uint16
	}{
		{"u:secret@tcp(" + addr + ")/s", 0},
		{"u:secret@tcp(" + addr + ")/s?tls=skip-verify", 0},
		{"u:secret@tcp(" + addr + ")/s?compress=true", 0},
		{"u:wrong@tcp(" + addr + ")/s", 1045},
		{"e@tcp(" + addr + ")/s", 0},
		{"u:secret@tcp(" + addr + ")/other", 1049},
	} {
		db, _ := sql.Open("mysql", c.dsn)
		err := db.Ping()
		db.Close()
		var code uint16
		if me, ok := err.(*mysql.MySQLError); ok {
			code = me.Number
		}
		if code != c.code {
			t.Errorf("%s: %v (code %d), want %d", c.dsn, err, code, c.code)
		}
	}
}

// rawClient speaks just enough of the protocol to drive the server's
// authentication paths directly.
type rawClient struct {
	t        *testing.T
	nc       net.Conn
	c        *wire.Conn
	scramble []byte
	caps     uint32 // capabilities to say besides respond's own
}

func dialRaw(t *testing.T, addr string) *rawClient {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	r := &rawClient{t: t, nc: nc, c: wire.NewConn(nc)}
	g, err := r.c.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	pos := bytes.IndexByte(g[1:], 0) + 2 + 4
	s1 := append([]byte(nil), g[pos:pos+8]...)
	pos += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
	r.scramble = append(s1, g[pos:pos+12]...)
	return r
}

func (r *rawClient) respond(useTLS bool, user string, auth []byte, plugin string) {
	caps := gomysql.CLIENT_PROTOCOL_41 | gomysql.CLIENT_SECURE_CONNECTION | gomysql.CLIENT_PLUGIN_AUTH |
		gomysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | r.caps
	if useTLS {
		caps |= gomysql.CLIENT_SSL
	}
	head := make([]byte, 32)
	binary.LittleEndian.PutUint32(head, caps)
	head[8] = 45
	if useTLS {
		r.c.WritePacket(head)
		r.c.Flush()
		tc := tls.Client(r.nc, &tls.Config{InsecureSkipVerify: true})
		if err := tc.Handshake(); err != nil {
			r.t.Fatal(err)
		}
		r.c.SetNetConn(tc)
	}
	p := append(head, user...)
	p = append(p, 0)
	p = wire.AppendLenEncBytes(p, auth)
	p = append(append(p, plugin...), 0)
	r.c.WritePacket(p)
	r.c.Flush()
}

func (r *rawClient) read() []byte {
	p, err := r.c.ReadPacket()
	if err != nil {
		r.t.Fatal(err)
	}
	return append([]byte(nil), p...)
}

func (r *rawClient) send(p []byte) {
	r.c.WritePacket(p)
	r.c.Flush()
}

func expectOK(t *testing.T, p []byte, what string) {
	t.Helper()
	if p[0] != wire.OKHeader {
		t.Fatalf("%s: got %q, want OK", what, p)
	}
}

func TestCachingSHA2FastPath(t *testing.T) {
	addr := startServer(t)
	r := dialRaw(t, addr)
	r.respond(false, "u", gomysql.CalcCachingSha2Password(r.scramble, []byte("secret")), pluginSHA2)
	if p := r.read(); !bytes.Equal(p, []byte{1, 3}) {
		t.Fatalf("got %q, want fast-auth success", p)
	}
	expectOK(t, r.read(), "fast path")
}

func TestCachingSHA2FullAuthOverTLS(t *testing.T) {
	addr := startServer(t)
	for _, c := range []struct {
		password string
		ok       bool
	}{{"secret", true}, {"wrong", false}} {
		r := dialRaw(t, addr)
		r.respond(true, "u", []byte("not the scramble"), pluginSHA2)
		if p := r.read(); !bytes.Equal(p, []byte{1, 4}) {
			t.Fatalf("got %q, want full-auth request", p)
		}
		r.send(append([]byte(c.password), 0))
		p := r.read()
		if c.ok {
			expectOK(t, p, "full auth")
		} else if p[0] != wire.ErrHeader || binary.LittleEndian.Uint16(p[1:]) != 1045 {
			t.Fatalf("wrong password: got %q", p)
		}
	}
}

func TestCachingSHA2FullAuthRSA(t *testing.T) {
	addr := startServer(t)
	r := dialRaw(t, addr)
	r.respond(false, "u", []byte("x"), pluginSHA2)
	if p := r.read(); !bytes.Equal(p, []byte{1, 4}) {
		t.Fatalf("got %q, want full-auth request", p)
	}
	r.send([]byte{2}) // ask for the public key
	p := r.read()
	block, _ := pem.Decode(p[1:])
	if block == nil {
		t.Fatalf("no PEM key in %q", p)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := gomysql.EncryptPassword("secret", r.scramble, pub.(*rsa.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	r.send(enc)
	expectOK(t, r.read(), "RSA full auth")
}

func TestAuthSwitchFromUnknownPlugin(t *testing.T) {
	addr := startServer(t)
	r := dialRaw(t, addr)
	r.respond(false, "u", []byte("whatever"), "client_ed25519")
	p := r.read()
	if p[0] != 0xfe || !bytes.HasPrefix(p[1:], []byte(pluginNative+"\x00")) {
		t.Fatalf("got %q, want switch to native", p)
	}
	scramble := p[1+len(pluginNative)+1 : 1+len(pluginNative)+1+20]
	r.send(gomysql.CalcNativePassword(scramble, []byte("secret")))
	expectOK(t, r.read(), "after switch")
}

// A panic outside a session's guard (here: no snapshot while greeting)
// closes that connection; the proxy goes on serving.
func TestPanicInHandshakeKeepsServing(t *testing.T) {
	addr, h := startServerHolder(t)
	good := h.Load()
	h.Store(nil)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("the connection that met the panic got an answer")
	}
	nc.Close()
	h.Store(good)
	r := dialRaw(t, addr)
	r.respond(false, "u", gomysql.CalcNativePassword(r.scramble, []byte("secret")), pluginNative)
	expectOK(t, r.read(), "after the panic")
}

func TestMalformedHandshakeDoesNotCrash(t *testing.T) {
	addr := startServer(t)
	for _, junk := range [][]byte{{}, {1, 2, 3}, bytes.Repeat([]byte{0xff}, 40), append(make([]byte, 32), 'u')} {
		r := dialRaw(t, addr)
		r.send(junk)
		if p, err := r.c.ReadPacket(); err == nil && p[0] != wire.ErrHeader {
			t.Fatalf("junk %q answered with %q", junk, p)
		}
	}
	// The server still serves.
	r := dialRaw(t, addr)
	r.respond(false, "u", gomysql.CalcNativePassword(r.scramble, []byte("secret")), pluginNative)
	expectOK(t, r.read(), "after junk")
}
