package exec

import (
	"github.com/shardgate/shardgate/router/merge"
)

// rowConverter turns text-protocol rows into binary-protocol rows for a
// client that executed a prepared statement the proxy ran as text.
type rowConverter struct {
	fields []merge.Field
	rb     *merge.RowBuilder
	built  *merge.Field // first field the builder was made for
}

func (rc *rowConverter) reset() { rc.fields, rc.rb = rc.fields[:0], nil }

func (rc *rowConverter) addField(def []byte) error {
	f, err := merge.FieldFromDef(append([]byte(nil), def...))
	if err != nil {
		return err
	}
	rc.fields = append(rc.fields, f)
	return nil
}

// binary converts a row of the fields added since reset.
func (rc *rowConverter) binary(row []byte) ([]byte, error) {
	return rc.binaryOf(rc.fields, row)
}

func (rc *rowConverter) binaryOf(fields []merge.Field, row []byte) ([]byte, error) {
	if len(fields) == 0 {
		return []byte{0}, nil
	}
	if rc.rb == nil || rc.built != &fields[0] {
		rc.rb = merge.NewRowBuilder(fields, true)
		rc.built = &fields[0]
	}
	rc.rb.Begin()
	for i := range fields {
		v, err := merge.DecodeText(row, i)
		if err != nil {
			return nil, err
		}
		if err := rc.rb.AppendValue(v); err != nil {
			return nil, err
		}
	}
	return rc.rb.Row(), nil
}

// BinaryRows converts whole text-protocol rows of the columns defs to the
// binary protocol, in place (a result the proxy holds and answers a
// prepared statement with).
func BinaryRows(defs [][]byte, rows [][]byte) error {
	var rc rowConverter
	for _, d := range defs {
		if err := rc.addField(d); err != nil {
			return err
		}
	}
	for i, row := range rows {
		b, err := rc.binary(row)
		if err != nil {
			return err
		}
		rows[i] = append([]byte(nil), b...)
	}
	return nil
}
