package exec

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router/merge"
)

// unifyUnion makes parts[0] show the columns of the UNION whose parts
// (or their shards' results) parts are, as the server would.
func unifyUnion(parts []merge.Stream) error {
	fields, err := unionFields(parts)
	if fields != nil {
		parts[0] = relabeled{parts[0], fields}
	}
	return err
}

// relabeled is a stream showing other column definitions (its values
// are the same).
type relabeled struct {
	merge.Stream
	fields []merge.Field
}

func (r relabeled) Fields() []merge.Field { return r.fields }

// unionFields returns the columns a UNION's result shows, from its parts'
// (each part ran on its own): nil when every part's agree with the
// first's. Columns of one type take the longest length, and are NOT NULL
// only when every part's is; integers of one signedness take the widest
// type. Any other difference is refused: the server's conversion rules
// (to DECIMAL, to another character set) would give other values.
func unionFields(parts []merge.Stream) ([]merge.Field, error) {
	first := parts[0].Fields()
	var out []merge.Field
	for _, p := range parts[1:] {
		fs := p.Fields()
		if len(fs) != len(first) {
			return nil, mysql.NewDefaultError(mysql.ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT)
		}
		for i := range fs {
			cur := &first[i]
			if out != nil {
				cur = &out[i]
			}
			if sameColumnType(cur, &fs[i]) {
				continue
			}
			u, ok := unionColumn(cur, &fs[i])
			if !ok {
				return nil, mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, fmt.Sprintf(
					"shardgate does not support a UNION whose parts give column %d (%s) different types (%s and %s); CAST them to one type",
					i+1, first[i].Name, typeName(cur), typeName(&fs[i])))
			}
			if out == nil {
				out = append([]merge.Field(nil), first...)
			}
			out[i] = u
		}
	}
	return out, nil
}

func sameColumnType(a, b *merge.Field) bool {
	return a.Type == b.Type && a.Charset == b.Charset && a.Decimals == b.Decimals && a.Length == b.Length &&
		a.Flags&(mysql.UNSIGNED_FLAG|mysql.NOT_NULL_FLAG) == b.Flags&(mysql.UNSIGNED_FLAG|mysql.NOT_NULL_FLAG)
}

// intRank orders the integer types by width; 0 for the others.
func intRank(t byte) int {
	switch t {
	case mysql.MYSQL_TYPE_TINY:
		return 1
	case mysql.MYSQL_TYPE_SHORT:
		return 2
	case mysql.MYSQL_TYPE_INT24:
		return 3
	case mysql.MYSQL_TYPE_LONG:
		return 4
	case mysql.MYSQL_TYPE_LONGLONG:
		return 5
	}
	return 0
}

// unionColumn is the column showing a's and b's values, if the proxy can
// tell it exactly.
func unionColumn(a, b *merge.Field) (merge.Field, bool) {
	if a.Flags&mysql.UNSIGNED_FLAG != b.Flags&mysql.UNSIGNED_FLAG || a.Charset != b.Charset || a.Decimals != b.Decimals {
		return merge.Field{}, false
	}
	typ := a.Type
	if a.Type != b.Type {
		ra, rb := intRank(a.Type), intRank(b.Type)
		if ra == 0 || rb == 0 {
			return merge.Field{}, false
		}
		if rb > ra {
			typ = b.Type
		}
	}
	def, err := wire.ParseColumnDef(a.Def)
	if err != nil {
		return merge.Field{}, false
	}
	def.Type, def.Length = typ, max(a.Length, b.Length)
	def.Flags = a.Flags &^ mysql.NOT_NULL_FLAG
	if a.Flags&b.Flags&mysql.NOT_NULL_FLAG != 0 {
		def.Flags |= mysql.NOT_NULL_FLAG
	}
	f, err := merge.FieldFromDef(wire.AppendColumnRef(nil, &def))
	return f, err == nil
}

// typeNames name the types an error message may show.
var typeNames = map[byte]string{
	mysql.MYSQL_TYPE_TINY: "TINYINT", mysql.MYSQL_TYPE_SHORT: "SMALLINT", mysql.MYSQL_TYPE_INT24: "MEDIUMINT",
	mysql.MYSQL_TYPE_LONG: "INT", mysql.MYSQL_TYPE_LONGLONG: "BIGINT", mysql.MYSQL_TYPE_NEWDECIMAL: "DECIMAL",
	mysql.MYSQL_TYPE_FLOAT: "FLOAT", mysql.MYSQL_TYPE_DOUBLE: "DOUBLE", mysql.MYSQL_TYPE_DATE: "DATE",
	mysql.MYSQL_TYPE_DATETIME: "DATETIME", mysql.MYSQL_TYPE_TIMESTAMP: "TIMESTAMP", mysql.MYSQL_TYPE_TIME: "TIME",
	mysql.MYSQL_TYPE_VAR_STRING: "VARCHAR", mysql.MYSQL_TYPE_STRING: "CHAR", mysql.MYSQL_TYPE_BLOB: "BLOB/TEXT",
}

// typeName names a column's type for an error message.
func typeName(f *merge.Field) string {
	name := typeNames[f.Type]
	if name == "" {
		name = fmt.Sprintf("type %d", f.Type)
	}
	if f.Flags&mysql.UNSIGNED_FLAG != 0 {
		name += " UNSIGNED"
	}
	if isStringType(f.Type) {
		name += fmt.Sprintf(" (collation %d)", f.Charset)
	}
	return name
}
