package router

import (
	"errors"
	"fmt"
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

// foldedCollation matches the collations folded text agrees with (no
// option), and the members of each family (the collation an option names,
// its NO PAD and finer variants).
var foldedCollation = regexp.MustCompile(`^utf8(mb[34])?_(general_ci|general_nopad_ci|unicode_ci|unicode_nopad_ci|unicode_520_ci|unicode_520_nopad_ci|uca1400_(nopad_)?a[is]_c[is])$|^ascii_`)

// collationFits says a column of collation (lower case) compares strings
// in a way the algorithm's reading (shardrules.KeyComparison) agrees
// with: it calls no strings equal that the folding keeps apart.
func collationFits(reading, collation string) bool {
	if collation == "binary" || strings.HasSuffix(collation, "_bin") || strings.HasPrefix(collation, "ascii_") {
		return true // folding only merges: fine for exact comparisons; ASCII folds alike under all
	}
	switch reading {
	case "text":
		return foldedCollation.MatchString(collation)
	case "binary":
		return false
	}
	// The family: utf8mb4_ for utf8mb3_ and utf8_, NO PAD as PAD SPACE,
	// and uca1400's accent- and case-sensitive variants (finer) as ai_ci.
	family := "utf8mb4_" + strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(collation, "utf8mb4_"), "utf8mb3_"), "utf8_")
	family = strings.Replace(family, "_nopad_", "_", 1)
	if ucaRoot.MatchString(family) {
		family = "utf8mb4_uca1400_ai_ci"
	}
	return family == reading
}

var ucaRoot = regexp.MustCompile(`^utf8mb4_uca1400_a[is]_c[is]$`)

// shardOf is v's shard by the algorithm of t's family (forRow: placing a
// row, else finding rows equal to v); an error when v has none, which a
// lookup answers by reading every shard. The algorithms read text as
// UTF-8: latin1 text is converted, and other charsets' text beyond ASCII
// has no shard (a *shardrules.CollationError, as for a string that folds
// under no single rule). Where the algorithm reads text, the sharding
// column decides too (see keyColumn).
func (b *builder) shardOf(t *tableInfo, v shardrules.Value, forRow bool) (int, error) {
	alg := t.algorithm()
	if cs := b.env.ForeignCharset; cs != "" && v.Kind() == shardrules.StringKind && !isASCII(v.Text()) {
		if !strings.EqualFold(cs, "latin1") {
			return 0, &shardrules.CollationError{Algorithm: alg.Name(), Value: v, Charset: cs}
		}
		v = shardrules.StringValue(latin1ToUTF8(v.Text()))
	}
	if reading := shardrules.KeyComparison(alg); reading != "" && b.env.KeyColumnType != nil {
		col := t.routingColumn()
		if !t.keyRead {
			t.key, t.keyRead = keyColumnOf(b.env.KeyColumnType(t.schema, t.rule.Name, col), reading), true
		}
		if !t.key.places(v, forRow) {
			return 0, &errKeyColumn{table: t.rule.Name, column: col, value: v, k: t.key}
		}
	}
	return alg.Shard(v)
}

// keyColumnFor is the key column a value of root's group was placed by in
// this statement (zero when none was read).
func (b *builder) keyColumnFor(root *shardrules.TableRule) keyColumn {
	for _, t := range b.tables {
		if t.keyRead && t.rule.Root == root {
			return t.key
		}
	}
	return keyColumn{}
}

// keyColumn is what placing a value learnt of a text-placed sharding
// column: how the server compares values with it, and whether its
// collation agrees with the algorithm's folding.
type keyColumn struct {
	class     columnClass
	collation string
	misfit    bool // the collation calls strings equal that the folding keeps apart
}

// columnClass is how the server compares a sharding column's values.
type columnClass uint8

const (
	unknownColumn columnClass = iota
	stringColumn
	numberColumn
)

// keyColumnOf reads Env.KeyColumnType's "data_type collation" for an
// algorithm reading strings as reading (shardrules.KeyComparison).
func keyColumnOf(info, reading string) keyColumn {
	dataType, collation, _ := strings.Cut(info, " ")
	k := keyColumn{collation: collation}
	switch dataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "enum", "set":
		k.class = stringColumn
		k.misfit = !collationFits(reading, collation)
	case "tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double", "bit", "year":
		k.class = numberColumn
	}
	return k
}

// places says a text-reading algorithm places v as the column compares
// it. A number with a string column compares as numbers ('42abc' and 'abc'
// equal 42 and 0), and so does a string that is not a plain number with a
// number column; a number stored in a string column is its text. Under a
// collation the folding does not agree with, printable ASCII is still
// placed alike (every collation compares it as case-insensitive or exact
// text), but nothing else.
func (k keyColumn) places(v shardrules.Value, forRow bool) bool {
	switch k.class {
	case stringColumn:
		if v.Kind() != shardrules.StringKind {
			return forRow || v.IsNull()
		}
		return !k.misfit || shardrules.PrintableASCII(v.Text())
	case numberColumn:
		return v.Kind() != shardrules.StringKind || v.Numeric()
	}
	return true
}

// errKeyColumn is a value its sharding column compares otherwise than the
// algorithm places it.
type errKeyColumn struct {
	table, column string
	value         shardrules.Value
	k             keyColumn
}

func (e *errKeyColumn) Error() string {
	if e.k.misfit {
		return fmt.Sprintf("%s.%s compares text by collation %s, which its sharding algorithm's folding does not agree with, so %s has no shard of its own (see the option collation)", e.table, e.column, e.k.collation, e.value)
	}
	return fmt.Sprintf("the server compares %s with %s.%s as numbers, and the sharding algorithm places text", e.value, e.table, e.column)
}

// noPlace says err is a string with no shard of its own (not a value the
// algorithm refuses): a row with it is not supported.
func noPlace(err error) bool {
	var kc *errKeyColumn
	return errors.As(err, new(*shardrules.CollationError)) || errors.As(err, &kc) && kc.k.misfit
}

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
		if cs == "binary" || def.Tp.GetFlag()&mysql.BinaryFlag != 0 && co == "" {
			co = "binary"
		}
		what := ""
		if co == "" {
			switch {
			case cs == "":
				return nil // the database's default: not in the statement
			case cs == "utf8mb4" || cs == "utf8mb3" || cs == "utf8":
				if reading != "text" && reading != "binary" {
					return nil // its default depends on the server (the proxy checks the column when it routes)
				}
				co = cs + "_general_ci" // or _uca1400_ai_ci: either fits "text", neither "binary"
			default:
				co, what = cs+"_default", "charset "+cs+"'s default collation"
			}
		}
		if what == "" {
			what = "collation " + co
		}
		if !collationFits(reading, co) {
			if reading == "text" {
				return errUnsupported("sharding table %s by its column %s under %s: it calls strings equal that %s sharding places apart (use a utf8mb4 root collation: _general_ci, _unicode_ci, _unicode_520_ci, _uca1400_ai_ci, or a binary one)", t.rule.Name, col, what, t.algorithm().Name())
			}
			return errUnsupported("sharding table %s by its column %s under %s with the option collation: %s: strings that compare equal would land on different shards (make the option the column's collation)", t.rule.Name, col, what, reading)
		}
		return nil
	}
	return nil
}
