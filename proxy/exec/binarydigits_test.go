package exec

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/router/merge"
)

// A DOUBLE with fixed decimals comes rounded as text: a prepared
// statement's binary row would carry the digits the text lost.
func TestBinaryKeepsDigits(t *testing.T) {
	for _, c := range []struct {
		f    merge.Field
		lost bool
	}{
		{merge.Field{Name: "STDDEV(amount)", Type: mysql.MYSQL_TYPE_DOUBLE, Decimals: 6}, true},
		{merge.Field{Name: "f", Type: mysql.MYSQL_TYPE_FLOAT, Decimals: 2}, true},
		{merge.Field{Name: "score", Type: mysql.MYSQL_TYPE_DOUBLE, Decimals: 31}, false},
		{merge.Field{Name: "amount", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Decimals: 2}, false},
	} {
		err := binaryKeepsDigits([]merge.Field{{Name: "id", Type: mysql.MYSQL_TYPE_LONG}, c.f})
		if me, ok := err.(*mysql.MyError); (err != nil) != c.lost || err != nil && (!ok || me.Code != mysql.ER_NOT_SUPPORTED_YET) {
			t.Errorf("%s (type %d, %d decimals): %v", c.f.Name, c.f.Type, c.f.Decimals, err)
		}
	}
}
