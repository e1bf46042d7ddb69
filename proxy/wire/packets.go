package wire

import (
	"encoding/binary"
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Packet headers.
const (
	OKHeader         = 0x00
	EOFHeader        = 0xfe
	ErrHeader        = 0xff
	LocalInfileHeder = 0xfb
)

// ErrMalformed is returned for a packet that cannot be decoded.
var ErrMalformed = errors.New("malformed packet")

// AppendLenEnc appends a length-encoded integer.
func AppendLenEnc(b []byte, n uint64) []byte {
	switch {
	case n < 251:
		return append(b, byte(n))
	case n < 1<<16:
		return append(b, 0xfc, byte(n), byte(n>>8))
	case n < 1<<24:
		return append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	default:
		return append(b, 0xfe, byte(n), byte(n>>8), byte(n>>16), byte(n>>24),
			byte(n>>32), byte(n>>40), byte(n>>48), byte(n>>56))
	}
}

// AppendLenEncString appends a length-encoded string.
func AppendLenEncString(b []byte, s string) []byte {
	return append(AppendLenEnc(b, uint64(len(s))), s...)
}

// AppendLenEncBytes appends length-encoded bytes.
func AppendLenEncBytes(b []byte, s []byte) []byte {
	return append(AppendLenEnc(b, uint64(len(s))), s...)
}

// ReadLenEnc decodes a length-encoded integer at b[0:]; null reports 0xfb.
// n is the number of bytes used, 0 if b is too short.
func ReadLenEnc(b []byte) (v uint64, null bool, n int) {
	if len(b) == 0 {
		return 0, false, 0
	}
	switch b[0] {
	case 0xfb:
		return 0, true, 1
	case 0xfc:
		if len(b) < 3 {
			return 0, false, 0
		}
		return uint64(b[1]) | uint64(b[2])<<8, false, 3
	case 0xfd:
		if len(b) < 4 {
			return 0, false, 0
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, false, 4
	case 0xfe:
		if len(b) < 9 {
			return 0, false, 0
		}
		return binary.LittleEndian.Uint64(b[1:]), false, 9
	case 0xff:
		return 0, false, 0
	}
	return uint64(b[0]), false, 1
}

// ReadLenEncBytes decodes a length-encoded string; n is 0 if b is too short.
func ReadLenEncBytes(b []byte) (s []byte, null bool, n int) {
	v, null, m := ReadLenEnc(b)
	if m == 0 || null {
		return nil, null, m
	}
	if uint64(len(b)-m) < v {
		return nil, false, 0
	}
	return b[m : m+int(v)], false, m + int(v)
}

// IsEOF reports whether a response packet is an EOF packet (or the OK packet
// that replaces it under CLIENT_DEPRECATE_EOF): header 0xfe and shorter than
// any row that starts with an 8-byte length.
func IsEOF(p []byte) bool { return len(p) > 0 && p[0] == EOFHeader && len(p) < 9 }

// IsResultEnd reports the end of rows under CLIENT_DEPRECATE_EOF: an OK
// packet with header 0xfe (it may carry an info string, so it may be long).
func IsResultEnd(p []byte) bool { return len(p) > 0 && p[0] == EOFHeader && len(p) < MaxPayload }

// EOFStatus returns the warnings and status flags of an EOF packet.
func EOFStatus(p []byte) (warnings, status uint16) {
	if len(p) < 5 {
		return 0, 0
	}
	return binary.LittleEndian.Uint16(p[1:]), binary.LittleEndian.Uint16(p[3:])
}

// SetEOFStatus rewrites the status flags of an EOF packet in place.
func SetEOFStatus(p []byte, status uint16) {
	if len(p) >= 5 {
		binary.LittleEndian.PutUint16(p[3:], status)
	}
}

// AppendEOF builds an EOF packet payload.
func AppendEOF(b []byte, warnings, status uint16) []byte {
	return append(b, EOFHeader, byte(warnings), byte(warnings>>8), byte(status), byte(status>>8))
}

// OK is a decoded OK packet.
type OK struct {
	AffectedRows uint64
	LastInsertID uint64
	Status       uint16
	Warnings     uint16
	Info         []byte
	// SessionState holds the raw session-state-change entries (only with
	// CLIENT_SESSION_TRACK and SERVER_SESSION_STATE_CHANGED).
	SessionState []byte
}

// ParseOK decodes an OK packet (header 0x00 or 0xfe). sessionTrack says
// whether CLIENT_SESSION_TRACK was negotiated on that connection. Slices
// point into p.
func ParseOK(p []byte, sessionTrack bool) (OK, error) {
	var ok OK
	if len(p) < 1 {
		return ok, ErrMalformed
	}
	pos := 1
	var n int
	if ok.AffectedRows, _, n = ReadLenEnc(p[pos:]); n == 0 {
		return ok, ErrMalformed
	}
	pos += n
	if ok.LastInsertID, _, n = ReadLenEnc(p[pos:]); n == 0 {
		return ok, ErrMalformed
	}
	pos += n
	if len(p) < pos+4 {
		return ok, ErrMalformed
	}
	ok.Status = binary.LittleEndian.Uint16(p[pos:])
	ok.Warnings = binary.LittleEndian.Uint16(p[pos+2:])
	pos += 4
	if !sessionTrack {
		ok.Info = p[pos:]
		return ok, nil
	}
	if pos < len(p) {
		if ok.Info, _, n = ReadLenEncBytes(p[pos:]); n == 0 {
			return ok, ErrMalformed
		}
		pos += n
	}
	if ok.Status&mysql.SERVER_SESSION_STATE_CHANGED != 0 && pos < len(p) {
		if ok.SessionState, _, n = ReadLenEncBytes(p[pos:]); n == 0 {
			return ok, ErrMalformed
		}
	}
	return ok, nil
}

// AppendOK encodes an OK packet for a peer; header is 0x00, or 0xfe for the
// end of a result set under CLIENT_DEPRECATE_EOF. Session state is never
// forwarded: the proxy keeps it for itself.
func AppendOK(b []byte, header byte, ok *OK, sessionTrack bool) []byte {
	b = append(b, header)
	b = AppendLenEnc(b, ok.AffectedRows)
	b = AppendLenEnc(b, ok.LastInsertID)
	st := ok.Status &^ mysql.SERVER_SESSION_STATE_CHANGED
	b = append(b, byte(st), byte(st>>8), byte(ok.Warnings), byte(ok.Warnings>>8))
	if sessionTrack {
		if len(ok.Info) > 0 {
			b = AppendLenEncBytes(b, ok.Info)
		}
		return b
	}
	return append(b, ok.Info...)
}

// AppendErr encodes an ERR packet.
func AppendErr(b []byte, e *mysql.MyError) []byte {
	b = append(b, ErrHeader, byte(e.Code), byte(e.Code>>8), '#')
	state := e.State
	if len(state) != 5 {
		state = mysql.DEFAULT_MYSQL_STATE
	}
	b = append(b, state...)
	return append(b, e.Message...)
}

// ParseErr decodes an ERR packet.
func ParseErr(p []byte) *mysql.MyError {
	e := &mysql.MyError{Code: mysql.ER_UNKNOWN_ERROR, State: mysql.DEFAULT_MYSQL_STATE}
	if len(p) < 3 {
		e.Message = "malformed error packet"
		return e
	}
	e.Code = binary.LittleEndian.Uint16(p[1:])
	rest := p[3:]
	if len(rest) >= 6 && rest[0] == '#' {
		e.State = string(rest[1:6])
		rest = rest[6:]
	}
	e.Message = string(rest)
	return e
}

// Session-state entry types (CLIENT_SESSION_TRACK).
const (
	TrackSystemVariables   = 0
	TrackSchema            = 1
	TrackStateChange       = 2
	TrackGTIDs             = 3
	TrackTxCharacteristics = 4
	TrackTxState           = 5
)

// WalkSessionState calls fn for each session-state entry.
func WalkSessionState(state []byte, fn func(typ byte, data []byte)) error {
	for len(state) > 0 {
		typ := state[0]
		data, _, n := ReadLenEncBytes(state[1:])
		if n == 0 {
			return ErrMalformed
		}
		fn(typ, data)
		state = state[1+n:]
	}
	return nil
}

// AppendColumnDef encodes a column definition (Protocol::ColumnDefinition41).
func AppendColumnDef(b []byte, c *Column) []byte {
	return appendColumn(b, [5]string{c.Schema, c.Table, c.OrgTable, c.Name, c.OrgName}, c.Charset, c.Length, c.Type, c.Flags, c.Decimals)
}

// AppendColumnRef encodes a decoded column definition, as AppendColumnDef
// does (without copying its names into strings).
func AppendColumnRef(b []byte, c *ColumnRef) []byte {
	return appendColumn(b, [5][]byte{c.Schema, c.Table, c.OrgTable, c.Name, c.OrgName}, c.Charset, c.Length, c.Type, c.Flags, c.Decimals)
}

// appendColumn encodes a column definition whose names (schema, table,
// org_table, name, org_name) are strings or bytes.
func appendColumn[T string | []byte](b []byte, names [5]T, charset uint16, length uint32, typ byte, flags uint16, decimals byte) []byte {
	b = AppendLenEncString(b, "def")
	for _, n := range names {
		b = append(AppendLenEnc(b, uint64(len(n))), n...)
	}
	b = append(b, 0x0c)
	b = append(b, byte(charset), byte(charset>>8))
	b = binary.LittleEndian.AppendUint32(b, length)
	return append(b, typ, byte(flags), byte(flags>>8), decimals, 0, 0)
}

// Column describes a result column the proxy makes up itself.
type Column struct {
	Schema, Table, OrgTable, Name, OrgName string
	Charset                                uint16
	Length                                 uint32
	Type                                   byte
	Flags                                  uint16
	Decimals                               byte
}

// ParseColumnDef decodes a column definition; strings point into p.
func ParseColumnDef(p []byte) (ColumnRef, error) {
	var c ColumnRef
	pos := 0
	fields := [6]*[]byte{nil, &c.Schema, &c.Table, &c.OrgTable, &c.Name, &c.OrgName}
	for _, f := range fields {
		s, _, n := ReadLenEncBytes(p[pos:])
		if n == 0 {
			return c, ErrMalformed
		}
		if f != nil {
			*f = s
		}
		pos += n
	}
	_, _, n := ReadLenEnc(p[pos:])
	if n == 0 || len(p) < pos+n+10 {
		return c, ErrMalformed
	}
	pos += n
	c.Charset = binary.LittleEndian.Uint16(p[pos:])
	c.Length = binary.LittleEndian.Uint32(p[pos+2:])
	c.Type = p[pos+6]
	c.Flags = binary.LittleEndian.Uint16(p[pos+7:])
	c.Decimals = p[pos+9]
	return c, nil
}

// ColumnRef is a decoded column definition pointing into a packet.
type ColumnRef struct {
	Schema, Table, OrgTable, Name, OrgName []byte
	Charset                                uint16
	Length                                 uint32
	Type                                   byte
	Flags                                  uint16
	Decimals                               byte
}
