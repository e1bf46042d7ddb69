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
		v, k, err := readParam(i, types, values[pos:], true)
		if err != nil {
			return nil, err
		}
		out[i] = v
		pos += k
	}
	return out, nil
}

// paramValue decodes parameter i alone, as decodeParams would (without
// long data): the ones before it are only skipped. null reports NULL.
func paramValue(i int, types, nullMap, values []byte) (v any, null bool, err error) {
	pos := 0
	for j := 0; ; j++ {
		if nullMap[j/8]&(1<<(j%8)) != 0 {
			if j == i {
				return nil, true, nil
			}
			continue
		}
		v, k, err := readParam(j, types, values[pos:], j == i)
		if err != nil || j == i {
			return v, v == nil && err == nil, err
		}
		pos += k
	}
}

// readParam reads parameter i's value at the start of b and returns the
// bytes it takes; with decode false, only their count (nothing is made).
func readParam(i int, types, b []byte, decode bool) (any, int, error) {
	t := types[2*i]
	unsigned := types[2*i+1]&0x80 != 0
	need := func(k int) error {
		if k > len(b) {
			return fmt.Errorf("parameter %d is truncated", i+1)
		}
		return nil
	}
	switch t {
	case mysql.MYSQL_TYPE_NULL:
		return nil, 0, nil
	case mysql.MYSQL_TYPE_TINY:
		if err := need(1); err != nil || !decode {
			return nil, 1, err
		}
		if unsigned {
			return uint64(b[0]), 1, nil
		}
		return int64(int8(b[0])), 1, nil
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		if err := need(2); err != nil || !decode {
			return nil, 2, err
		}
		v := binary.LittleEndian.Uint16(b)
		if unsigned {
			return uint64(v), 2, nil
		}
		return int64(int16(v)), 2, nil
	case mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_INT24:
		if err := need(4); err != nil || !decode {
			return nil, 4, err
		}
		v := binary.LittleEndian.Uint32(b)
		if unsigned {
			return uint64(v), 4, nil
		}
		return int64(int32(v)), 4, nil
	case mysql.MYSQL_TYPE_LONGLONG:
		if err := need(8); err != nil || !decode {
			return nil, 8, err
		}
		v := binary.LittleEndian.Uint64(b)
		if unsigned {
			return v, 8, nil
		}
		return int64(v), 8, nil
	case mysql.MYSQL_TYPE_FLOAT:
		if err := need(4); err != nil || !decode {
			return nil, 4, err
		}
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 4, nil
	case mysql.MYSQL_TYPE_DOUBLE:
		if err := need(8); err != nil || !decode {
			return nil, 8, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), 8, nil
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIME:
		if err := need(1); err != nil {
			return nil, 0, err
		}
		l := int(b[0])
		if err := need(1 + l); err != nil || !decode {
			return nil, 1 + l, err
		}
		if t == mysql.MYSQL_TYPE_TIME {
			return timeText(b[1 : 1+l]), 1 + l, nil
		}
		return dateText(b[1 : 1+l]), 1 + l, nil
	}
	// Strings, blobs, DECIMAL, JSON...: length-encoded bytes.
	v, _, k := wire.ReadLenEncBytes(b)
	if k == 0 {
		return nil, 0, fmt.Errorf("parameter %d is truncated", i+1)
	}
	if !decode {
		return nil, k, nil
	}
	return string(v), k, nil
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
