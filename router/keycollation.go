package router

import (
	"regexp"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"

	"github.com/shardgate/shardgate/shardrules"
)

// A table sharded by a string column must be compared the way its
// algorithm places keys (shardrules/fold.go): folded text agrees with
// MariaDB's utf8 root collations and anything finer, binary keys with
// binary columns only. CREATE TABLE through the proxy checks the key
// column's collation where the statement names it (or its charset), and
// refuses one under which equal strings would land on different shards.

// foldedCollation matches the collations folded text agrees with.
var foldedCollation = regexp.MustCompile(`^utf8(mb[34])?_(general_ci|general_nopad_ci|unicode_ci|unicode_nopad_ci|unicode_520_ci|unicode_520_nopad_ci|uca1400_(nopad_)?a[is]_c[is])$|^ascii_`)

// checkKeyCollation refuses a CREATE TABLE of t whose sharding column's
// collation does not fit its algorithm's reading of strings.
func (b *builder) checkKeyCollation(ct *ast.CreateTableStmt, t *tableInfo) error {
	if !t.sharded() {
		return nil
	}
	reading := shardrules.KeyComparison(t.algorithm())
	col := t.routingColumn()
	if reading == "" || col == "" {
		return nil
	}
	for _, def := range ct.Cols {
		if !strings.EqualFold(def.Name.Name.O, col) || def.Tp == nil {
			continue
		}
		switch def.Tp.GetType() {
		case mysql.TypeVarchar, mysql.TypeString, mysql.TypeVarString, mysql.TypeBlob, mysql.TypeTinyBlob, mysql.TypeMediumBlob, mysql.TypeLongBlob:
		default:
			return nil // numbers, dates: read as such
		}
		cs, co := strings.ToLower(def.Tp.GetCharset()), strings.ToLower(def.Tp.GetCollate())
		for _, o := range def.Options {
			if o.Tp == ast.ColumnOptionCollate {
				co = strings.ToLower(o.StrValue)
			}
		}
		if cs == "" && co == "" {
			for _, o := range ct.Options {
				switch o.Tp {
				case ast.TableOptionCharset:
					cs = strings.ToLower(o.StrValue)
				case ast.TableOptionCollate:
					co = strings.ToLower(o.StrValue)
				}
			}
		}
		binary := cs == "binary" || co == "binary" || strings.HasSuffix(co, "_bin") || def.Tp.GetFlag()&mysql.BinaryFlag != 0 && co == ""
		if co == "" {
			switch {
			case cs == "":
				return nil // the database's default: not in the statement
			case binary:
			case cs == "utf8mb4" || cs == "utf8mb3" || cs == "utf8":
				co = cs + "_general_ci"
			default:
				co = "charset " + cs + "'s default"
			}
		}
		switch {
		case reading == "binary" && !binary:
			return errUnsupported("sharding table %s by its column %s with the option collation: binary when the column is %s text: strings that compare equal would land on different shards (drop the option, or make the column binary)", t.rule.Name, col, co)
		case reading == "text" && !binary && !foldedCollation.MatchString(co):
			if !strings.HasPrefix(co, "charset ") {
				co = "collation " + co
			}
			return errUnsupported("sharding table %s by its column %s under %s: it calls strings equal that %s sharding places apart (use utf8mb4_general_ci, utf8mb4_unicode_ci, utf8mb4_unicode_520_ci, a utf8mb4_uca1400 root collation, or a binary one)", t.rule.Name, col, co, t.algorithm().Name())
		}
		return nil
	}
	return nil
}
