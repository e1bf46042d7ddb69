package server

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"net"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/conf"
	"github.com/shardgate/shardgate/proxy/snapshot"
	"github.com/shardgate/shardgate/proxy/wire"
)

const (
	pluginNative = "mysql_native_password"
	pluginSHA2   = "caching_sha2_password"
)

// serverCaps are the capabilities the proxy offers to clients.
const serverCaps = mysql.CLIENT_LONG_PASSWORD | mysql.CLIENT_FOUND_ROWS | mysql.CLIENT_LONG_FLAG |
	mysql.CLIENT_CONNECT_WITH_DB | mysql.CLIENT_COMPRESS | mysql.CLIENT_LOCAL_FILES |
	mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_INTERACTIVE | mysql.CLIENT_SSL | mysql.CLIENT_TRANSACTIONS |
	mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_MULTI_STATEMENTS | mysql.CLIENT_MULTI_RESULTS |
	mysql.CLIENT_PS_MULTI_RESULTS | mysql.CLIENT_PLUGIN_AUTH | mysql.CLIENT_CONNECT_ATTRS |
	mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | mysql.CLIENT_SESSION_TRACK | mysql.CLIENT_DEPRECATE_EOF

// Login is the outcome of a handshake.
type Login struct {
	Caps      uint32
	User      *conf.User
	Schema    string
	Collation uint16
	Scramble  []byte
	Attrs     map[string]string
	TLS       bool
}

// response is a decoded HandshakeResponse41 (or COM_CHANGE_USER).
type response struct {
	caps      uint32
	collation uint16
	user      string
	auth      []byte
	db        string
	plugin    string
	attrs     map[string]string
}

func newScramble() []byte {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	// Printable, never NUL: some clients treat the scramble as a C string.
	for i := range b {
		b[i] = b[i]%94 + 33
	}
	return b
}

func (s *Server) writeGreeting(c *wire.Conn, connID uint32, scramble []byte, snap *snapshot.Snapshot) {
	caps := serverCaps
	if s.tlsConf == nil {
		caps &^= mysql.CLIENT_SSL
	}
	coll := uint16(45)
	if snap.Info != nil && snap.Info.DefaultCollation != 0 {
		coll = snap.Info.DefaultCollation
	}
	p := make([]byte, 0, 128)
	p = append(p, 10)
	p = append(p, s.version(snap)...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint32(p, connID)
	p = append(p, scramble[:8]...)
	p = append(p, 0)
	p = append(p, byte(caps), byte(caps>>8))
	p = append(p, byte(coll))
	p = append(p, byte(mysql.SERVER_STATUS_AUTOCOMMIT), 0)
	p = append(p, byte(caps>>16), byte(caps>>24))
	p = append(p, 21)
	p = append(p, make([]byte, 10)...)
	p = append(p, scramble[8:]...)
	p = append(p, 0)
	p = append(p, pluginNative...)
	p = append(p, 0)
	c.WritePacket(p)
}

func (s *Server) version(snap *snapshot.Snapshot) string {
	if v := snap.Conf.ServerVersion; v != "" {
		return v
	}
	if snap.Info != nil && snap.Info.Version != "" {
		// MariaDB prefixes its greeting with 5.5.5- so old clients that
		// expect a 5.x major version keep working; do as it does.
		v := snap.Info.Version
		if bytes.Contains([]byte(v), []byte("MariaDB")) {
			return "5.5.5-" + v
		}
		return v
	}
	return "5.5.5-10.11.0-MariaDB-shardgate"
}

func parseResponse(p []byte) (*response, error) {
	if len(p) < 32 {
		return nil, wire.ErrMalformed
	}
	r := &response{}
	r.caps = binary.LittleEndian.Uint32(p)
	r.collation = uint16(p[8])
	pos := 32
	user, n := cString(p[pos:])
	if n < 0 {
		return nil, wire.ErrMalformed
	}
	r.user = user
	pos += n
	switch {
	case r.caps&mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0:
		a, _, k := wire.ReadLenEncBytes(p[pos:])
		if k == 0 {
			return nil, wire.ErrMalformed
		}
		r.auth, pos = a, pos+k
	case r.caps&mysql.CLIENT_SECURE_CONNECTION != 0:
		if pos >= len(p) || pos+1+int(p[pos]) > len(p) {
			return nil, wire.ErrMalformed
		}
		r.auth = p[pos+1 : pos+1+int(p[pos])]
		pos += 1 + int(p[pos])
	default:
		a, k := cString(p[pos:])
		if k < 0 {
			return nil, wire.ErrMalformed
		}
		r.auth, pos = []byte(a), pos+k
	}
	r.auth = append([]byte(nil), r.auth...)
	if r.caps&mysql.CLIENT_CONNECT_WITH_DB != 0 && pos < len(p) {
		db, k := cString(p[pos:])
		if k < 0 {
			return nil, wire.ErrMalformed
		}
		r.db, pos = db, pos+k
	}
	if r.caps&mysql.CLIENT_PLUGIN_AUTH != 0 && pos < len(p) {
		pl, k := cString(p[pos:])
		if k < 0 {
			pl, k = string(p[pos:]), len(p)-pos
		}
		r.plugin, pos = pl, pos+k
	}
	if r.caps&mysql.CLIENT_CONNECT_ATTRS != 0 && pos < len(p) {
		r.attrs = parseAttrs(p[pos:])
	}
	return r, nil
}

// parseChangeUser decodes COM_CHANGE_USER's payload (after the command byte).
func parseChangeUser(p []byte, caps uint32) (*response, error) {
	r := &response{caps: caps}
	user, n := cString(p)
	if n < 0 {
		return nil, wire.ErrMalformed
	}
	r.user, p = user, p[n:]
	if caps&mysql.CLIENT_SECURE_CONNECTION != 0 {
		if len(p) < 1 || 1+int(p[0]) > len(p) {
			return nil, wire.ErrMalformed
		}
		r.auth, p = append([]byte(nil), p[1:1+int(p[0])]...), p[1+int(p[0]):]
	} else {
		a, k := cString(p)
		if k < 0 {
			return nil, wire.ErrMalformed
		}
		r.auth, p = []byte(a), p[k:]
	}
	db, k := cString(p)
	if k < 0 {
		db, k = string(p), len(p)
	}
	r.db, p = db, p[k:]
	if len(p) >= 2 {
		r.collation, p = binary.LittleEndian.Uint16(p), p[2:]
	}
	if caps&mysql.CLIENT_PLUGIN_AUTH != 0 && len(p) > 0 {
		pl, k := cString(p)
		if k < 0 {
			pl, k = string(p), len(p)
		}
		r.plugin, p = pl, p[k:]
	}
	if caps&mysql.CLIENT_CONNECT_ATTRS != 0 && len(p) > 0 {
		r.attrs = parseAttrs(p)
	}
	return r, nil
}

func parseAttrs(p []byte) map[string]string {
	total, _, n := wire.ReadLenEnc(p)
	if n == 0 || uint64(len(p)-n) < total {
		return nil
	}
	p = p[n : n+int(total)]
	m := map[string]string{}
	for len(p) > 0 {
		k, _, a := wire.ReadLenEncBytes(p)
		if a == 0 {
			break
		}
		v, _, b := wire.ReadLenEncBytes(p[a:])
		if b == 0 {
			break
		}
		m[string(k)] = string(v)
		p = p[a+b:]
	}
	return m
}

// cString returns the NUL-terminated string at p and the bytes used (-1 if
// there is no NUL).
func cString(p []byte) (string, int) {
	i := bytes.IndexByte(p, 0)
	if i < 0 {
		return "", -1
	}
	return string(p[:i]), i + 1
}

// authError is the 1045 a client sees for a bad user or password.
func authError(user, host string, usedPassword bool) *mysql.MyError {
	yes := "NO"
	if usedPassword {
		yes = "YES"
	}
	return mysql.NewDefaultError(mysql.ER_ACCESS_DENIED_ERROR, user, host, yes)
}

// errAuth is returned (wrapped in *mysql.MyError) when authentication fails.
var errHandshake = errors.New("bad handshake")

// authenticate checks the client's credentials, switching plugins or asking
// for the full caching_sha2 exchange when needed. On success the next
// packet to write is the final OK.
func (s *Server) authenticate(c *wire.Conn, r *response, scramble []byte, host string, snap *snapshot.Snapshot, isTLS bool) (*conf.User, error) {
	u := snap.Users[r.user]
	plugin := r.plugin
	if r.caps&mysql.CLIENT_PLUGIN_AUTH == 0 {
		plugin = pluginNative
	}
	auth := r.auth
	if plugin != pluginNative && plugin != pluginSHA2 {
		// Unknown or unwanted plugin (ed25519, clear text, sha256): ask
		// for mysql_native_password over the same scramble.
		sw := append([]byte{0xfe}, pluginNative...)
		sw = append(sw, 0)
		sw = append(append(sw, scramble...), 0)
		c.WritePacket(sw)
		if err := c.Flush(); err != nil {
			return nil, err
		}
		p, err := c.ReadPacket()
		if err != nil {
			return nil, err
		}
		plugin, auth = pluginNative, append([]byte(nil), p...)
	}
	deny := authError(r.user, host, len(auth) > 0)
	if u == nil {
		return nil, deny
	}
	switch plugin {
	case pluginNative:
		if !checkNative(auth, scramble, u.Password) {
			return nil, deny
		}
		return u, nil
	}
	// caching_sha2_password: the fast path needs only the scramble; when it
	// does not match, ask for the password itself (over TLS, or RSA).
	if len(auth) > 0 && u.Password != "" && subtle.ConstantTimeCompare(auth, mysql.CalcCachingSha2Password(scramble, []byte(u.Password))) == 1 {
		c.WritePacket([]byte{0x01, 0x03}) // fast auth success
		return u, nil
	}
	if len(auth) == 0 && u.Password == "" {
		return u, nil
	}
	c.WritePacket([]byte{0x01, 0x04}) // perform full authentication
	if err := c.Flush(); err != nil {
		return nil, err
	}
	p, err := c.ReadPacket()
	if err != nil {
		return nil, err
	}
	var password []byte
	switch {
	case isTLS:
		password = bytes.TrimRight(p, "\x00")
	case len(p) == 1 && p[0] == 0x02:
		key, err := s.rsaKey()
		if err != nil {
			return nil, err
		}
		der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		c.WritePacket(append([]byte{0x01}, pemKey...))
		if err := c.Flush(); err != nil {
			return nil, err
		}
		enc, err := c.ReadPacket()
		if err != nil {
			return nil, err
		}
		plain, err := rsa.DecryptOAEP(sha1.New(), rand.Reader, key, enc, nil)
		if err != nil {
			return nil, deny
		}
		for i := range plain {
			plain[i] ^= scramble[i%len(scramble)]
		}
		password = bytes.TrimRight(plain, "\x00")
	default:
		// A clear-text password over a plain connection is refused, as
		// MySQL does.
		return nil, deny
	}
	if subtle.ConstantTimeCompare(password, []byte(u.Password)) != 1 {
		return nil, deny
	}
	return u, nil
}

func checkNative(auth, scramble []byte, password string) bool {
	if password == "" {
		return len(auth) == 0
	}
	return subtle.ConstantTimeCompare(auth, mysql.CalcNativePassword(scramble, []byte(password))) == 1
}

// checkSchema says whether the user may start in (or switch to) db.
func checkSchema(u *conf.User, db, host string, snap *snapshot.Snapshot) *mysql.MyError {
	if db == "" || isSystemSchema(db) {
		return nil
	}
	if snap.Schemas[db] == nil {
		return mysql.NewDefaultError(mysql.ER_BAD_DB_ERROR, db)
	}
	if !snapshot.CanUse(u, db) {
		return mysql.NewDefaultError(mysql.ER_DBACCESS_DENIED_ERROR, u.Name, host, db)
	}
	return nil
}

// checkClientCharset refuses the character sets a client may not use for
// its statements (their code units are not ASCII-compatible), as MariaDB does.
func checkClientCharset(collation uint16, snap *snapshot.Snapshot) *mysql.MyError {
	if snap.Info == nil {
		return nil
	}
	switch cs := snap.Info.Collations[collation].Charset; cs {
	case "ucs2", "utf16", "utf16le", "utf32":
		return mysql.NewDefaultError(mysql.ER_WRONG_VALUE_FOR_VAR, "character_set_client", cs)
	}
	return nil
}

func isSystemSchema(db string) bool {
	return db == "information_schema"
}

// upgradeTLS switches the connection to TLS after an SSLRequest.
// A client may send its TLS ClientHello right behind the SSLRequest, so
// bytes already buffered belong to the TLS stream.
func (s *Server) upgradeTLS(c *wire.Conn) error {
	nc := c.NetConn()
	if early := c.TakeBuffered(); len(early) > 0 {
		nc = &prefixConn{Conn: nc, prefix: early}
	}
	tc := tls.Server(nc, s.tlsConf)
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("%w: tls: %v", errHandshake, err)
	}
	c.SetNetConn(tc)
	return nil
}

// prefixConn replays bytes read ahead before reading the connection.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

func hostOf(a net.Addr) string {
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}
