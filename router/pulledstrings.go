package router

import (
	"encoding/hex"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/shardgate/shardgate/parser"
	"github.com/shardgate/shardgate/router/merge"
)

// The strings of a subquery the proxy runs first (see Pullable), written
// back into its statement so that they compare as on one server: in their
// own collation, with the derivation they had there where a literal can
// have it, else named where that cannot change the comparison's
// collation, else refused.

// StringColumn is what the session knows of a result column's strings,
// read unconverted: their character set and collation, and whether that
// is the character set's default. Collation is "" for a column of no
// strings.
type StringColumn struct {
	Charset, Collation string
	Default            bool
}

// StringLiteral is PulledLiteral for a string of the result's column i
// (its bytes v, in col's character set). On one server the subquery's
// value keeps its collation and derivation: IMPLICIT for a column's,
// COERCIBLE for a literal's. A literal written with the same is exact
// wherever it goes: CONVERT(_cs X'..' USING cs) is IMPLICIT and _cs X'..'
// COERCIBLE, both in cs's default collation. Other collations can only
// be named, with COLLATE (EXPLICIT): exact where the value's collation
// is the one the comparison picks either way, against a literal (weaker),
// a value of the same collation, a number or temporal value (compared as
// such), or, for a column's value, a string of the same character set
// when the value's is its binary collation, or one of another character
// set than a utf8mb4 value's (which the server converts to utf8mb4); a
// literal's value against a column takes the column's collation (so the
// COERCIBLE form serves whatever the value's collation). What
// the other side is comes from Env.KeyColumnType for a column of a table,
// else from the statement of PartnerProbe (SetPartners). Elsewhere it is
// refused. connection is the session's collation_connection.
func (p *Pulled) StringLiteral(f *merge.Field, v []byte, i int, env *Env, col StringColumn, connection string) (string, error) {
	lit, ok := collatedLiteral(v, col.Charset, col.Collation)
	if !ok {
		return "", errUnsupported("a string (%s) of a subquery across shards or nodes, which the proxy runs first, in a collation the proxy does not know (id %d)", f.Name, f.Charset)
	}
	form, why := p.stringForm(i, env, col, connection)
	switch form {
	case implicitForm:
		return "CONVERT(_" + col.Charset + " X'" + hex.EncodeToString(v) + "' USING " + col.Charset + ")", nil
	case coercibleForm:
		return "_" + col.Charset + " X'" + hex.EncodeToString(v) + "'", nil
	case explicitForm:
		return lit, nil
	}
	return "", errUnsupported("a string (%s, %s) of a subquery across shards or nodes, which the proxy runs first, %s: the proxy cannot tell which collation one server would compare them in", f.Name, col.Collation, why)
}

type stringForm uint8

const (
	refusedForm stringForm = iota
	implicitForm
	coercibleForm
	explicitForm
)

// derivation is what a subquery's value is (stringForm): unknown, a
// column's (IMPLICIT) or a literal's (COERCIBLE).
type derivation uint8

const (
	unknownDerivation derivation = iota
	implicitDerivation
	coercibleDerivation
)

// stringForm decides how the strings of the result's column i are
// written (StringLiteral), or says why they cannot be (why is
// needPartner when partnerType does not know yet).
func (p *Pulled) stringForm(i int, env *Env, col StringColumn, connection string) (stringForm, string) {
	deriv := p.derivation(i)
	switch {
	case p.discarded:
		return explicitForm, ""
	case col.Default && deriv == implicitDerivation:
		return implicitForm, ""
	case col.Default && deriv == coercibleDerivation:
		return coercibleForm, ""
	case p.same:
		return explicitForm, ""
	case p.literal(i) && (deriv == implicitDerivation || col.Collation == connection):
		return explicitForm, ""
	case p.literal(i):
		return refusedForm, "an expression's, compared with a literal of the connection's collation"
	case i >= len(p.partners):
		return refusedForm, "used other than compared with a value"
	}
	switch other := p.partnerType(i, env); {
	case other == "":
		return refusedForm, needPartner
	case other == col.Collation, other == comparesAsSuch:
		return explicitForm, ""
	case deriv == coercibleDerivation && p.columns[i]:
		// A literal's value against a column: the column's collation.
		return coercibleForm, ""
	case deriv == implicitDerivation && other != "binary" && strings.HasPrefix(col.Collation, "utf8mb4_") && !strings.HasPrefix(other, "utf8mb4_"),
		deriv == implicitDerivation && strings.HasSuffix(col.Collation, "_bin") && !strings.HasSuffix(other, "_bin") &&
			charsetOf(col.Collation) == charsetOf(other):
		// The server converts the other side to utf8mb4, or picks the
		// binary collation of one character set. (Unless a COLLATE names
		// the other side's: then the literal's named one makes an error,
		// not another answer.)
		return explicitForm, ""
	default:
		return refusedForm, "compared with a value in " + other
	}
}

// needPartner is stringForm's why while partnerType does not know.
const needPartner = "compared with a value whose collation the proxy could not learn"

// derivation tells the result's column i's derivation from the
// subquery's select list: a column of a table it reads (or MIN, MAX or
// ANY_VALUE of one) is IMPLICIT, a string literal COERCIBLE. A derived
// table's column is what its query selects, so those stay unknown.
func (p *Pulled) derivation(i int) derivation {
	sel, ok := p.Query.(*ast.SelectStmt)
	if !ok || sel.Fields == nil || sel.With != nil {
		return unknownDerivation
	}
	tablesOnly := true
	if sel.From != nil {
		sel.From.Accept(visitFunc(func(n ast.Node) bool {
			if ts, ok := n.(*ast.TableSource); ok {
				if _, ok := ts.Source.(*ast.TableName); !ok {
					tablesOnly = false
				}
			}
			return tablesOnly
		}))
	}
	fields := sel.Fields.Fields
	if len(fields) == 1 && fields[0].WildCard != nil {
		if tablesOnly {
			return implicitDerivation
		}
		return unknownDerivation
	}
	if i >= len(fields) || fields[i].WildCard != nil {
		return unknownDerivation
	}
	e := unparen(fields[i].Expr)
	if agg, ok := e.(*ast.AggregateFuncExpr); ok && len(agg.Args) == 1 {
		switch strings.ToLower(agg.F) {
		case ast.AggFuncMax, ast.AggFuncMin, "any_value":
			e = unparen(agg.Args[0])
		}
	}
	switch x := e.(type) {
	case *ast.ColumnNameExpr:
		if tablesOnly {
			return implicitDerivation
		}
	case *test_driver.ValueExpr:
		if x.Kind() == test_driver.KindString {
			return coercibleDerivation
		}
	}
	return unknownDerivation
}

// literal reports whether the result's column i is compared with a
// literal (a placeholder's value is one).
func (p *Pulled) literal(i int) bool {
	if i >= len(p.partners) {
		return false
	}
	switch unparen(p.partners[i]).(type) {
	case ast.ValueExpr, ast.ParamMarkerExpr:
		return true
	}
	return false
}

// partnerType returns the collation of what the result's column i is
// compared with (or comparesAsSuch, or "binary"); "" unknown. A column
// of a table in the FROM clause around it is looked up with
// Env.KeyColumnType; others wait for SetPartners.
func (p *Pulled) partnerType(i int, env *Env) string {
	if p.types == nil {
		p.types = make([]string, len(p.partners))
		p.columns = make([]bool, len(p.partners))
		for j, e := range p.partners {
			if col, ok := unparen(e).(*ast.ColumnNameExpr); ok && p.from != nil {
				sel := &ast.SelectStmt{Kind: ast.SelectStmtKindSelect, From: p.from,
					Fields: &ast.FieldList{Fields: []*ast.SelectField{{Expr: col}}}}
				b := &builder{env: env, stmt: sel}
				if b.resolve() == nil {
					p.types[j] = columnCollation(b.columnType(col))
					p.columns[j] = p.types[j] != ""
				}
			}
		}
	}
	return p.types[i]
}

// PartnerProbe returns a statement whose column definitions tell what the
// result's strings (of cols) are compared with, where StringLiteral needs
// to know and partnerType does not: those values, read in the FROM
// clause around them, LIMIT 0. "" when none is missing.
func (p *Pulled) PartnerProbe(cols []StringColumn, env *Env, connection string, mode parser.Mode) (string, error) {
	missing := false
	for i, col := range cols {
		if _, why := p.stringForm(i, env, col, connection); col.Collation != "" && why == needPartner {
			missing = true
		}
	}
	if !missing {
		return "", nil
	}
	fields := make([]*ast.SelectField, len(p.partners))
	for i, e := range p.partners {
		fields[i] = &ast.SelectField{Expr: e}
	}
	sel := &ast.SelectStmt{Kind: ast.SelectStmtKindSelect, SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
		From: p.from, Fields: &ast.FieldList{Fields: fields}, Limit: &ast.Limit{Count: ast.NewValueExpr(0, "", "")}}
	return parser.RestoreMode([]ast.StmtNode{sel}, mode)
}

// SetPartners takes what PartnerProbe's statement described: its columns'
// definitions, read with character_set_results NULL (collation names a
// collation id).
func (p *Pulled) SetPartners(fields []merge.Field, collation func(id uint16) string) {
	for i := range p.types {
		if p.types[i] != "" || i >= len(fields) {
			continue
		}
		f := &fields[i]
		switch {
		case comparedAsSuch(f.Type):
			p.types[i] = comparesAsSuch
		case !StringType(f.Type):
		case f.Charset == 63:
			p.types[i] = "binary"
		default:
			p.types[i] = collation(f.Charset)
		}
	}
}

func charsetOf(collation string) string {
	cs, _, _ := strings.Cut(collation, "_")
	return cs
}

// comparesAsSuch is partnerType's answer for a number or temporal value,
// which a string is compared with as such, whatever its collation.
const comparesAsSuch = "(a number or temporal value)"

// comparedAsSuch reports a field type of numbers or temporal values (or
// NULL, which compares with nothing).
func comparedAsSuch(t byte) bool {
	switch t {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG,
		mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_FLOAT,
		mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_YEAR, mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE,
		mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2,
		mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2, mysql.MYSQL_TYPE_NULL:
		return true
	}
	return false
}

// columnCollation reads Env.KeyColumnType's "data_type collation" as
// partnerType answers.
func columnCollation(typ string) string {
	dataType, collation, _ := strings.Cut(typ, " ")
	switch dataType {
	case "tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double",
		"year", "date", "datetime", "timestamp", "time":
		return comparesAsSuch
	}
	return collation
}
