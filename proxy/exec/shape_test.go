package exec

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/router/merge"
)

func TestSameShape(t *testing.T) {
	id := merge.Field{Name: "id", Type: mysql.MYSQL_TYPE_LONG, Charset: 63}
	body := merge.Field{Name: "body", Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 45, Length: 80}
	with := func(f merge.Field, change func(*merge.Field)) merge.Field { change(&f); return f }
	cases := []struct {
		name  string
		other []merge.Field
		ok    bool
	}{
		{"same", []merge.Field{id, body}, true},
		{"another length and name (a widened VARCHAR, a renamed column)", []merge.Field{id, with(body, func(f *merge.Field) { f.Length, f.Name = 200, "b" })}, true},
		{"another nullability", []merge.Field{with(id, func(f *merge.Field) { f.Flags = mysql.NOT_NULL_FLAG }), body}, true},
		{"a column more", []merge.Field{id, body, id}, false},
		{"a column less", []merge.Field{id}, false},
		{"INT and BIGINT", []merge.Field{with(id, func(f *merge.Field) { f.Type = mysql.MYSQL_TYPE_LONGLONG }), body}, false},
		{"signed and unsigned", []merge.Field{with(id, func(f *merge.Field) { f.Flags = mysql.UNSIGNED_FLAG }), body}, false},
		{"text and binary", []merge.Field{id, with(body, func(f *merge.Field) { f.Charset = 63 })}, false},
		{"another scale", []merge.Field{with(id, func(f *merge.Field) { f.Decimals = 2 }), body}, false},
	}
	first := merge.FromRows([]merge.Field{id, body}, false, nil)
	for _, c := range cases {
		err := sameShape([]merge.Stream{first, merge.FromRows([]merge.Field{id, body}, false, nil), merge.FromRows(c.other, false, nil)})
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && err.(*mysql.MyError).Code != mysql.ER_TABLE_DEF_CHANGED {
			t.Errorf("%s: %v, want 1412", c.name, err)
		}
	}
}
