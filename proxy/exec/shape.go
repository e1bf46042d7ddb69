package exec

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/router/merge"
)

// sameShape checks that the shards running one statement answer with the
// same columns. A table altered on some of its shards only (a schema change
// rolled out shard by shard, or one that failed part-way) would otherwise
// have rows relayed under column definitions they do not match, or merged
// by the wrong column; in the binary protocol the client could not even
// decode them. The check is on what decides the values' form: the number
// of columns, and each one's type, signedness, character set and (for
// decimals and times) scale.
//
// A stream whose header comes only after the results before it on the same
// connection (pinned.go) is checked when it is first read: asking for its
// columns now would hold those results in memory.
func sameShape(in []merge.Stream) error {
	if len(in) < 2 {
		return nil
	}
	first := in[0].Fields()
	for i, s := range in[1:] {
		if l, ok := s.(interface{ fieldsKnown() bool }); ok && !l.fieldsKnown() {
			in[i+1] = &shapeChecked{Stream: s, first: first}
			continue
		}
		if err := agree(first, s.Fields()); err != nil {
			return err
		}
	}
	return nil
}

// agree checks one stream's columns against the first's.
func agree(first, fs []merge.Field) error {
	if len(fs) != len(first) {
		return shapeError("not as many columns from each shard")
	}
	for i := range fs {
		a, b := &first[i], &fs[i]
		if a.Type != b.Type || a.Charset != b.Charset || (a.Decimals != b.Decimals && scaled(a.Type)) ||
			(a.Flags^b.Flags)&mysql.UNSIGNED_FLAG != 0 {
			return shapeError(fmt.Sprintf("column %d (%s) has another type on one shard", i+1, a.Name))
		}
	}
	return nil
}

// shapeChecked is a stream checked against the first's columns when first read.
type shapeChecked struct {
	merge.Stream
	first   []merge.Field
	checked bool
}

func (s *shapeChecked) Next() (merge.Row, error) {
	if !s.checked {
		s.checked = true
		if err := agree(s.first, s.Stream.Fields()); err != nil {
			return nil, err
		}
	}
	return s.Stream.Next()
}

// scaled reports whether a type's values are written with as many
// fractional digits as the column's scale says. (Elsewhere the scale is
// noise: a string helper column shows 0 from a statement and 39 from the
// same statement in a node's UNION ALL of its shards.)
func scaled(t byte) bool {
	switch t {
	case mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_DATETIME,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIME2, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2:
		return true
	}
	return false
}

func shapeError(what string) error {
	return mysql.NewError(mysql.ER_TABLE_DEF_CHANGED, "Table definition has changed: the shards answer with different columns ("+
		what+"); a table's definition differs between its shards, as while a schema change is rolled out to some of them")
}
