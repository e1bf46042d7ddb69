package exec

import (
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
	"github.com/shardgate/shardgate/router/merge"
)

func column(t *testing.T, typ byte, length uint32, flags uint16, decimals byte, charset uint16) merge.Field {
	t.Helper()
	f, err := merge.FieldFromDef(wire.AppendColumnDef(nil, &wire.Column{Schema: "s", Table: "t", OrgTable: "t", Name: "c", OrgName: "c",
		Charset: charset, Length: length, Type: typ, Flags: flags, Decimals: decimals}))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestUnionFields(t *testing.T) {
	const nn, us = mysql.NOT_NULL_FLAG, mysql.UNSIGNED_FLAG
	intNN := column(t, mysql.MYSQL_TYPE_LONG, 11, nn, 0, 63)
	for _, tc := range []struct {
		name     string
		parts    []merge.Field
		want     *merge.Field // nil: the first part's columns stand
		refusing bool
	}{
		{name: "alike", parts: []merge.Field{intNN, intNN}},
		{name: "wider integer", parts: []merge.Field{intNN, column(t, mysql.MYSQL_TYPE_LONGLONG, 21, 0, 0, 63)},
			want: &merge.Field{Type: mysql.MYSQL_TYPE_LONGLONG, Length: 21}},
		{name: "narrower integer", parts: []merge.Field{intNN, column(t, mysql.MYSQL_TYPE_TINY, 4, nn, 0, 63)},
			want: &merge.Field{Type: mysql.MYSQL_TYPE_LONG, Length: 11, Flags: nn}},
		{name: "longer string", parts: []merge.Field{column(t, mysql.MYSQL_TYPE_VAR_STRING, 40, nn, 0, 45), column(t, mysql.MYSQL_TYPE_VAR_STRING, 80, nn, 0, 45)},
			want: &merge.Field{Type: mysql.MYSQL_TYPE_VAR_STRING, Length: 80, Flags: nn}},
		{name: "signedness", parts: []merge.Field{intNN, column(t, mysql.MYSQL_TYPE_LONG, 10, nn|us, 0, 63)}, refusing: true},
		{name: "decimal and integer", parts: []merge.Field{intNN, column(t, mysql.MYSQL_TYPE_NEWDECIMAL, 12, nn, 2, 63)}, refusing: true},
		{name: "scale", parts: []merge.Field{column(t, mysql.MYSQL_TYPE_NEWDECIMAL, 12, nn, 2, 63), column(t, mysql.MYSQL_TYPE_NEWDECIMAL, 12, nn, 3, 63)}, refusing: true},
		{name: "character set", parts: []merge.Field{column(t, mysql.MYSQL_TYPE_VAR_STRING, 40, nn, 0, 45), column(t, mysql.MYSQL_TYPE_VAR_STRING, 40, nn, 0, 8)}, refusing: true},
	} {
		var parts []merge.Stream
		for _, f := range tc.parts {
			parts = append(parts, merge.FromRows([]merge.Field{f}, false, nil))
		}
		err := unifyUnion(parts)
		var me *mysql.MyError
		switch {
		case tc.refusing:
			if !errors.As(err, &me) || me.Code != mysql.ER_NOT_SUPPORTED_YET {
				t.Errorf("%s: got %v, want error 1235", tc.name, err)
			}
			continue
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := parts[0].Fields()[0]
		if tc.want == nil {
			if _, ok := parts[0].(relabeled); ok {
				t.Errorf("%s: relabeled alike columns", tc.name)
			}
			continue
		}
		if got.Type != tc.want.Type || got.Length != tc.want.Length || got.Flags&nn != tc.want.Flags&nn || got.Name != "c" {
			t.Errorf("%s: got type %d length %d flags %#x name %q, want type %d length %d flags %#x",
				tc.name, got.Type, got.Length, got.Flags, got.Name, tc.want.Type, tc.want.Length, tc.want.Flags)
		}
		if def, err := wire.ParseColumnDef(got.Def); err != nil || def.Type != got.Type || def.Length != got.Length {
			t.Errorf("%s: the definition sent to the client says type %d length %d (%v)", tc.name, def.Type, def.Length, err)
		}
	}
}
