package merge

import (
	"math/big"
	"strconv"
)

// numAcc sums integers and decimals exactly: in an int64 while the sum
// fits, in a big.Int after. The sum is small (or b) / 10^scale.
type numAcc struct {
	small   int64
	b       big.Int
	isBig   bool
	scale   int
	nonNull bool
	tmp     big.Int
}

func (a *numAcc) reset() {
	a.small, a.isBig, a.scale, a.nonNull = 0, false, 0, false
}

var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return
}()

// setPow10 sets z to 10^k.
func setPow10(z *big.Int, k int) *big.Int {
	if k < len(pow10) {
		return z.SetInt64(pow10[k])
	}
	z.SetInt64(pow10[18])
	var t big.Int
	for k -= 18; k > 0; {
		n := min(k, 18)
		z.Mul(z, t.SetInt64(pow10[n]))
		k -= n
	}
	return z
}

func (a *numAcc) promote() {
	if !a.isBig {
		a.b.SetInt64(a.small)
		a.isBig = true
	}
}

// rescale raises the scale to s (> a.scale) without changing the value.
func (a *numAcc) rescale(s int) {
	k := s - a.scale
	a.scale = s
	if !a.isBig && k < len(pow10) {
		p := pow10[k]
		if r := a.small * p; a.small == 0 || (r/p == a.small && (r < 0) == (a.small < 0)) {
			a.small = r
			return
		}
	}
	a.promote()
	a.b.Mul(&a.b, setPow10(&a.tmp, k))
}

// add adds a numeric value; NULL is skipped.
func (a *numAcc) add(v Value) error {
	switch v.Kind {
	case KindNull:
		return nil
	case KindInt:
		var t [24]byte
		return a.addDecimal(strconv.AppendInt(t[:0], v.I, 10))
	case KindUint:
		var t [24]byte
		return a.addDecimal(strconv.AppendUint(t[:0], v.U, 10))
	case KindDecimal, KindText, KindBytes:
		return a.addDecimal(v.B)
	case KindFloat:
		var t [64]byte
		return a.addDecimal(strconv.AppendFloat(t[:0], v.F, 'f', -1, 64))
	}
	return malformed("numeric value")
}

// addDecimal adds decimal text.
func (a *numAcc) addDecimal(text []byte) error {
	if !validDecimal(text) {
		return malformed("decimal")
	}
	a.nonNull = true
	neg := false
	if text[0] == '-' || text[0] == '+' {
		neg = text[0] == '-'
		text = text[1:]
	}
	ip, fp := text, text[:0]
	for i, c := range text {
		if c == '.' {
			ip, fp = text[:i], text[i+1:]
			break
		}
	}
	for len(ip) > 0 && ip[0] == '0' {
		ip = ip[1:]
	}
	if len(fp) > a.scale {
		a.rescale(len(fp))
	}
	pad := a.scale - len(fp)
	if !a.isBig && len(ip)+len(fp)+pad <= 18 {
		var m int64
		for _, c := range ip {
			m = m*10 + int64(c-'0')
		}
		for _, c := range fp {
			m = m*10 + int64(c-'0')
		}
		m *= pow10[pad]
		if neg {
			m = -m
		}
		if s := a.small + m; (m >= 0 && s >= a.small) || (m < 0 && s < a.small) {
			a.small = s
			return nil
		}
	}
	a.promote()
	t := &a.tmp
	t.SetInt64(0)
	var chunk int64
	n := 0
	var mul big.Int
	flush := func() {
		if n > 0 {
			t.Mul(t, mul.SetInt64(pow10[n]))
			t.Add(t, mul.SetInt64(chunk))
			chunk, n = 0, 0
		}
	}
	for _, digits := range [2][]byte{ip, fp} {
		for _, c := range digits {
			chunk = chunk*10 + int64(c-'0')
			n++
			if n == 18 {
				flush()
			}
		}
	}
	flush()
	if pad > 0 {
		t.Mul(t, setPow10(&mul, pad))
	}
	if neg {
		t.Neg(t)
	}
	a.b.Add(&a.b, t)
	return nil
}

func (a *numAcc) isZero() bool {
	if a.isBig {
		return a.b.Sign() == 0
	}
	return a.small == 0
}

// bigValue returns the unscaled sum as a big.Int (a.b, promoted).
func (a *numAcc) bigValue() *big.Int {
	a.promote()
	return &a.b
}

// appendText appends the sum as decimal text with its own scale.
func (a *numAcc) appendText(dst []byte) []byte {
	if !a.isBig {
		neg := a.small < 0
		u := uint64(a.small)
		if neg {
			u = -u
		}
		var t [24]byte
		return appendScaled(dst, neg, strconv.AppendUint(t[:0], u, 10), a.scale)
	}
	neg := a.b.Sign() < 0
	a.tmp.Abs(&a.b)
	return appendScaled(dst, neg, a.tmp.Append(nil, 10), a.scale)
}

// float returns the sum as a float64.
func (a *numAcc) float() float64 {
	if !a.isBig && a.scale == 0 {
		return float64(a.small)
	}
	var t [128]byte
	x, _ := strconv.ParseFloat(unsafeString(a.appendText(t[:0])), 64)
	return x
}

// appendScaled writes the magnitude digits with scale digits after the point.
func appendScaled(dst []byte, neg bool, digits []byte, scale int) []byte {
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	if neg && !(len(digits) == 1 && digits[0] == '0') {
		dst = append(dst, '-')
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for i := len(digits); i < scale; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	if scale > 0 {
		dst = append(dst, '.')
		dst = append(dst, digits[len(digits)-scale:]...)
	}
	return dst
}

// divState holds scratch big.Ints for AVG divisions.
type divState struct {
	num, den, q, r, t big.Int
}

// appendDivDecimal appends sum/count with exactly scale decimals, as
// MariaDB's AVG over integers and DECIMAL: it divides to a whole number of
// 9-digit words of decimals (0 for scale 0), truncating, then rounds half
// away from zero to scale. So with div_precision_increment = 0 an average
// of integers is truncated (11/2 gives 5), and at 9 decimals too.
func (d *divState) appendDivDecimal(dst []byte, sum, count *numAcc, scale int) []byte {
	internal := (scale + 8) / 9 * 9
	d.num.Set(sum.bigValue())
	d.den.Set(count.bigValue())
	if count.scale > 0 { // counts are integers; be safe anyway
		d.num.Mul(&d.num, setPow10(&d.t, count.scale))
	}
	switch s := sum.scale; {
	case internal > s:
		d.num.Mul(&d.num, setPow10(&d.t, internal-s))
	case internal < s:
		d.den.Mul(&d.den, setPow10(&d.t, s-internal))
	}
	neg := d.num.Sign() < 0
	d.num.Abs(&d.num)
	d.q.Quo(&d.num, &d.den) // truncated at internal decimals
	if k := internal - scale; k > 0 {
		d.q.QuoRem(&d.q, setPow10(&d.t, k), &d.r)
		d.r.Lsh(&d.r, 1)
		if d.r.Cmp(&d.t) >= 0 {
			d.q.Add(&d.q, d.t.SetInt64(1))
		}
	}
	var buf [96]byte
	return appendScaled(dst, neg, d.q.Append(buf[:0], 10), scale)
}

// floatAcc sums DOUBLE partial sums.
type floatAcc struct {
	sum     float64
	nonNull bool
}

func (a *floatAcc) add(v Value) {
	if v.Kind == KindNull {
		return
	}
	a.nonNull = true
	a.sum += toFloat(v)
}

func isFloatType(f *Field) bool { return classOf(f.Type) == classFloat }
