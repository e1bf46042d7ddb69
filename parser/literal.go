package parser

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Literals the TiDB parser's value driver cannot print back as MariaDB
// reads them keep the text they were written with:
//   - 0x1F: the driver prints x'1f', and MariaDB reads the two apart:
//     0x1F is a number in a numeric context (0x41 + 0 is 65), x'1f' a
//     string (x'41' + 0 is 0). Other hexadecimal and bit literals keep
//     theirs too, with their introducer: MariaDB names a column by it.
//   - decimal numbers: MariaDB types and names them by their text (10. is
//     a DECIMAL, 1.50 has two decimals); of more than 81 digits, the
//     driver's decimal panics on them, and MariaDB takes them (clamped to
//     65 digits, with a warning).
//
// The parser builds literals through hooks the driver sets; these wrap them.
func init() {
	newValue, newHex, newBit, newDecimal := ast.NewValueExpr, ast.NewHexLiteral, ast.NewBitLiteral, ast.NewDecimal
	ast.NewHexLiteral = func(s string) (any, error) {
		v, err := newHex(s)
		if err == nil {
			return asWritten{v, s}, nil
		}
		return v, err
	}
	ast.NewBitLiteral = func(s string) (any, error) {
		v, err := newBit(s)
		if err == nil {
			return asWritten{v, s}, nil
		}
		return v, err
	}
	ast.NewDecimal = func(s string) (v any, err error) {
		defer func() {
			if recover() != nil {
				v, err = asWritten{clampedDecimal(), s}, nil
			}
		}()
		if v, err = newDecimal(s); err == nil {
			v = asWritten{v, s} // 10. is a DECIMAL(2,0), 10 an INT
		}
		return v, err
	}
	ast.NewValueExpr = func(v any, charset, collate string) ast.ValueExpr {
		if w, ok := v.(asWritten); ok {
			return &WrittenValue{ValueExpr: newValue(w.value, charset, collate).(*test_driver.ValueExpr), Written: w.text}
		}
		return newValue(v, charset, collate)
	}
}

// asWritten carries a literal's value and text from the lexer's hook to
// the value expression made of it. It is an ast.BinaryLiteral for the
// grammar rules that take a hexadecimal literal as a string.
type asWritten struct {
	value any
	text  string
}

func (w asWritten) ToString() string {
	if b, ok := w.value.(ast.BinaryLiteral); ok {
		return b.ToString()
	}
	return w.text
}

// WrittenValue is a literal printed back as it was written.
type WrittenValue struct {
	*test_driver.ValueExpr
	Written string
}

// Restore prints the literal's text, after its introducer if it has one
// (_latin1 0x41).
func (w *WrittenValue) Restore(ctx *format.RestoreCtx) error {
	if tp := w.GetType(); tp.GetFlag()&mysql.UnderScoreCharsetFlag != 0 && tp.GetCharset() != "" {
		ctx.WritePlain("_" + tp.GetCharset() + " ")
	}
	ctx.WritePlain(w.Written)
	return nil
}

// Accept keeps the wrapper in the tree: the embedded expression's own
// Accept would hand the walk (and the parent) the bare driver value.
func (w *WrittenValue) Accept(v ast.Visitor) (ast.Node, bool) {
	n, _ := v.Enter(w) // a literal has no children to skip
	return v.Leave(n)
}

// decimalOf parses a number with the driver's decimal, which panics on
// numbers of more than 81 digits (a branch it leaves to TiDB): those are
// not ok.
func decimalOf(s string) (d *test_driver.MyDecimal, ok bool) {
	defer func() {
		if recover() != nil {
			d, ok = nil, false
		}
	}()
	d = new(test_driver.MyDecimal)
	if err := d.FromString([]byte(s)); err != nil {
		return nil, false
	}
	return d, true
}

// clampedDecimal is what MariaDB makes of a longer number: the largest
// DECIMAL(65).
func clampedDecimal() *test_driver.MyDecimal {
	d, _ := decimalOf(strings.Repeat("9", 65))
	return d
}

// KeepText makes a literal print back as text (its token as written), for
// the literals the lexer gives no text: integers. It returns v itself
// when it cannot.
func KeepText(v ast.ValueExpr, text string) ast.ValueExpr {
	if d, ok := v.(*test_driver.ValueExpr); ok {
		return &WrittenValue{ValueExpr: d, Written: text}
	}
	return v
}
