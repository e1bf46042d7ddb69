package exec

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/router/merge"
)

func TestSameShape(t *testing.T) {
	id := merge.Field{Name: "id", Type: mysql.MYSQL_TYPE_LONG, Charset: 63}
	body := merge.Field{Name: "body", Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 45, Length: 80}
	amount := merge.Field{Name: "amount", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Charset: 63, Decimals: 2}
	base := []merge.Field{id, body, amount}
	with := func(f merge.Field, change func(*merge.Field)) merge.Field { change(&f); return f }
	cases := []struct {
		name  string
		other []merge.Field
		ok    bool
	}{
		{"same", base, true},
		{"another length and name (a widened VARCHAR, a renamed column)", []merge.Field{id, with(body, func(f *merge.Field) { f.Length, f.Name = 200, "b" }), amount}, true},
		{"another nullability", []merge.Field{with(id, func(f *merge.Field) { f.Flags = mysql.NOT_NULL_FLAG }), body, amount}, true},
		{"a column more", []merge.Field{id, body, amount, id}, false},
		{"a column less", []merge.Field{id, body}, false},
		{"INT and BIGINT", []merge.Field{with(id, func(f *merge.Field) { f.Type = mysql.MYSQL_TYPE_LONGLONG }), body, amount}, false},
		{"signed and unsigned", []merge.Field{with(id, func(f *merge.Field) { f.Flags = mysql.UNSIGNED_FLAG }), body, amount}, false},
		{"text and binary", []merge.Field{id, with(body, func(f *merge.Field) { f.Charset = 63 }), amount}, false},
		{"another scale of a decimal", []merge.Field{id, body, with(amount, func(f *merge.Field) { f.Decimals = 3 })}, false},
		{"another scale of a string (noise)", []merge.Field{id, with(body, func(f *merge.Field) { f.Decimals = 39 }), amount}, true},
	}
	first := merge.FromRows(base, false, nil)
	for _, c := range cases {
		err := sameShape([]merge.Stream{first, merge.FromRows(base, false, nil), merge.FromRows(c.other, false, nil)})
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && err.(*mysql.MyError).Code != mysql.ER_TABLE_DEF_CHANGED {
			t.Errorf("%s: %v, want 1412", c.name, err)
		}
	}
}
