package session

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
)

// decodeParams reads a COM_STMT_EXECUTE's parameter values (binary
// protocol) as Go values: int64, uint64, float64, string, or nil for NULL.
// Parameters sent with COM_STMT_SEND_LONG_DATA come from longData.
func decodeParams(n int, types, nullMap, values []byte, longData map[uint16][]byte) ([]any, error) {
	out := make([]any, n)
	pos := 0
	for i := 0; i < n; i++ {
		if nullMap[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		if d, ok := longData[uint16(i)]; ok {
			out[i] = string(d)
			continue
		}
		t := types[2*i]
		unsigned := types[2*i+1]&0x80 != 0
		need := func(k int) error {
			if pos+k > len(values) {
				return fmt.Errorf("parameter %d is truncated", i+1)
			}
			return nil
		}
		switch t {
		case mysql.MYSQL_TYPE_NULL:
		case mysql.MYSQL_TYPE_TINY:
			if err := need(1); err != nil {
				return nil, err
			}
			if unsigned {
				out[i] = uint64(values[pos])
			} else {
				out[i] = int64(int8(values[pos]))
			}
			pos++
		case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
			if err := need(2); err != nil {
				return nil, err
			}
			v := binary.LittleEndian.Uint16(values[pos:])
			if unsigned {
				out[i] = uint64(v)
			} else {
				out[i] = int64(int16(v))
			}
			pos += 2
		case mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_INT24:
			if err := need(4); err != nil {
				return nil, err
			}
			v := binary.LittleEndian.Uint32(values[pos:])
			if unsigned {
				out[i] = uint64(v)
			} else {
				out[i] = int64(int32(v))
			}
			pos += 4
		case mysql.MYSQL_TYPE_LONGLONG:
			if err := need(8); err != nil {
				return nil, err
			}
			v := binary.LittleEndian.Uint64(values[pos:])
			if unsigned {
				out[i] = v
			} else {
				out[i] = int64(v)
			}
			pos += 8
		case mysql.MYSQL_TYPE_FLOAT:
			if err := need(4); err != nil {
				return nil, err
			}
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(values[pos:])))
			pos += 4
		case mysql.MYSQL_TYPE_DOUBLE:
			if err := need(8); err != nil {
				return nil, err
			}
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(values[pos:]))
			pos += 8
		case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP:
			if err := need(1); err != nil {
				return nil, err
			}
			l := int(values[pos])
			if err := need(1 + l); err != nil {
				return nil, err
			}
			out[i] = dateText(values[pos+1 : pos+1+l])
			pos += 1 + l
		case mysql.MYSQL_TYPE_TIME:
			if err := need(1); err != nil {
				return nil, err
			}
			l := int(values[pos])
			if err := need(1 + l); err != nil {
				return nil, err
			}
			out[i] = timeText(values[pos+1 : pos+1+l])
			pos += 1 + l
		default:
			// Strings, blobs, DECIMAL, JSON...: length-encoded bytes.
			v, _, k := wire.ReadLenEncBytes(values[pos:])
			if k == 0 {
				return nil, fmt.Errorf("parameter %d is truncated", i+1)
			}
			out[i] = string(v)
			pos += k
		}
	}
	return out, nil
}

func dateText(b []byte) string {
	var y, mo, d, h, mi, s, us int
	if len(b) >= 4 {
		y, mo, d = int(binary.LittleEndian.Uint16(b)), int(b[2]), int(b[3])
	}
	if len(b) >= 7 {
		h, mi, s = int(b[4]), int(b[5]), int(b[6])
	}
	if len(b) >= 11 {
		us = int(binary.LittleEndian.Uint32(b[7:]))
	}
	if us != 0 {
		return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d.%06d", y, mo, d, h, mi, s, us)
	}
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, s)
}

func timeText(b []byte) string {
	if len(b) < 8 {
		return "00:00:00"
	}
	sign := ""
	if b[0] == 1 {
		sign = "-"
	}
	days := int(binary.LittleEndian.Uint32(b[1:]))
	h, mi, s := int(b[5])+24*days, int(b[6]), int(b[7])
	if len(b) >= 12 {
		if us := int(binary.LittleEndian.Uint32(b[8:])); us != 0 {
			return fmt.Sprintf("%s%02d:%02d:%02d.%06d", sign, h, mi, s, us)
		}
	}
	return fmt.Sprintf("%s%02d:%02d:%02d", sign, h, mi, s)
}
