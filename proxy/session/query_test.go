package session

import (
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/parser"
)

// checkMulti goes over a query's statements once each: scanning all the
// rest at each one made 16,000 statements take 15 s (the firewall's
// screen did the same).
func TestCheckMultiManyStatements(t *testing.T) {
	sql := strings.Repeat("DO 1;", 100000) + "SET GLOBAL max_connections = 1"
	var sum parser.Summary
	parser.Scan(sql, &sum)
	if e := checkMulti(sql, &sum); e == nil || e.Code != mysql.ER_NOT_SUPPORTED_YET && e.Code != mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR {
		t.Fatalf("SET GLOBAL after 100,000 statements: %v, want it refused", e)
	}
}
