package merge

import (
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/proxy/wire"
)

// AggKind says how the shards' partial aggregates combine.
type AggKind int

// Aggregate kinds.
const (
	// AggCount sums the partial counts (no rows: 0).
	AggCount AggKind = iota
	// AggSum sums the partial sums exactly (integers and DECIMAL with
	// math/big, printed with the column's Decimals) or as float64 for
	// DOUBLE columns; NULL when every partial sum is NULL.
	AggSum
	// AggMin and AggMax keep the least/greatest partial value, compared
	// by the column's type, or by the Weight helper column when set (then
	// that column is output from the same winning row).
	AggMin
	AggMax
	// AggAvg writes SumCol/CountCol's totals into Col: for a DECIMAL Col
	// rounded half away from zero to Col's Decimals, for DOUBLE by float
	// division; NULL when the count is 0. SumCol and CountCol get the
	// totals too unless another function writes them.
	AggAvg
	// AggCountDistinct counts the distinct non-NULL values of column Value
	// (compared through Weight when set) and writes the count into Col.
	// The input must be sorted by the group keys, then by Value. With
	// Value == Col the count replaces the values and Fields() describes
	// that column as MySQL's COUNT(DISTINCT) result (BIGINT NOT NULL).
	AggCountDistinct
	// AggSumDistinct and AggAvgDistinct sum (average) the distinct
	// non-NULL values of column Value, sorted as for AggCountDistinct,
	// into Col (typed like MySQL's SUM(DISTINCT)/AVG(DISTINCT) result).
	AggSumDistinct
	AggAvgDistinct
	// AggBitOr, AggBitAnd and AggBitXor combine the shards' BIT_OR,
	// BIT_AND and BIT_XOR (BIGINT UNSIGNED; no rows: 0, all ones, 0).
	AggBitOr
	AggBitAnd
	AggBitXor
	// AggGroupConcat joins the shards' non-NULL GROUP_CONCAT() results
	// with Sep (NULL when none); without ORDER BY any order is MySQL's.
	// A result past MaxLen bytes (group_concat_max_len), or joined from
	// a part a shard may have cut there, fails with ErrGroupConcatCut:
	// one server would have cut the whole elsewhere. LenCol has each
	// part's LENGTH() where the limit counts it (the rows may come in
	// another character set).
	AggGroupConcat
)

// ErrGroupConcatCut refuses a GROUP_CONCAT() across shards that reaches
// group_concat_max_len.
var ErrGroupConcatCut = mysql.NewError(mysql.ER_NOT_SUPPORTED_YET,
	"shardgate does not support a GROUP_CONCAT() across shards whose result reaches group_concat_max_len (one server would cut it elsewhere): raise group_concat_max_len")

// AggFunc merges one aggregate column. Column indexes are 0-based; set
// Weight to -1 when there is no WEIGHT_STRING helper.
type AggFunc struct {
	Kind             AggKind
	Col              int // output column
	Weight           int // AggMin/AggMax/AggCountDistinct: WEIGHT_STRING helper, or -1
	SumCol, CountCol int // AggAvg: helper columns with SUM(x) and COUNT(x)
	Value            int // AggCountDistinct: the column whose values are counted
	// Sep, MaxLen and LenCol: AggGroupConcat's separator,
	// group_concat_max_len and the parts' lengths.
	Sep    []byte
	MaxLen int
	LenCol int
	// Pads reads the collation of Weight's values (see SortKey.Pads).
	Pads Pads
	pad  []byte // resolved from the first value
	// Unrounded: a DECIMAL AVG gives every digit of its quotient (whole
	// 9-digit words of decimals), as a variable assigned it keeps them;
	// else it is rounded to its scale, as a server shows it.
	Unrounded bool
}

// compare compares two values of a function, weight strings padded.
func (f *AggFunc) compare(a, b Value) int {
	if f.Pads != nil && f.Weight >= 0 && a.Kind != KindNull && b.Kind != KindNull {
		if f.pad == nil {
			f.pad = f.Pads.of(a.B)
		}
		return PadCompare(a.B, b.B, f.pad)
	}
	return compareTyped(a, b)
}

// Aggregate merges consecutive rows with equal group keys into one row
// (GROUP BY across shards: the input must be sorted by the group keys, e.g.
// a MergeSort of shard results ordered by them). With no group keys all
// rows form one group, and an empty input still gives one row, as in
// MySQL: COUNT 0, other aggregates and plain columns NULL. Output rows have
// the input's fields; columns that no function writes come from the
// group's first row.
func Aggregate(in Stream, group []SortKey, funcs []AggFunc) Stream {
	fields := in.Fields()
	bin := in.Binary()
	a := &aggregate{
		in:     in,
		fields: fields,
		bin:    bin,
		group:  newKeySet(fields, bin, group),
		ngroup: len(group),
		funcs:  funcs,
		states: make([]aggState, len(funcs)),
		roles:  make([]aggRole, len(fields)),
		spans:  make([]span, len(fields)),
		fspans: make([]span, len(fields)),
		fkeys:  make([]Value, len(group)),
		ckeys:  make([]Value, len(group)),
	}
	a.out = fields
	if a.group.bad {
		a.err = errBadColumn
	}
	a.assignRoles()
	a.rb = NewRowBuilder(a.out, bin)
	return a
}

// parts of a function's output.
const (
	partMain uint8 = iota
	partWeight
	partAvgSum
	partAvgCount
)

type aggRole struct {
	fn   int // -1: copied from the group's first row
	part uint8
}

type aggState struct {
	num   numAcc   // COUNT, exact SUM, AVG's exact sum
	cnt   numAcc   // AVG's count
	flt   floatAcc // float SUM and AVG sums
	float bool     // sums are float64
	has   bool     // MIN/MAX/COUNT DISTINCT: a value was seen
	raw   []byte   // MIN/MAX: winning column content
	wraw  []byte   // MIN/MAX: winning weight content
	wnull bool
	val   Value  // MIN/MAX: winner's compared value; COUNT DISTINCT: previous value
	vbuf  []byte // bytes of val
	n     int64  // COUNT DISTINCT
	bits  uint64 // BIT_OR, BIT_AND, BIT_XOR
	text  []byte // GROUP_CONCAT: the parts joined
	parts int    // GROUP_CONCAT: non-NULL parts
	total int64  // GROUP_CONCAT: their length where the limit counts
	cut   bool   // GROUP_CONCAT: a part may have been cut
}

type aggregate struct {
	in     Stream
	fields []Field
	out    []Field
	bin    bool
	group  *keySet
	ngroup int
	funcs  []AggFunc
	states []aggState
	roles  []aggRole
	div    divState

	first   []byte // copy of the group's first row
	fspans  []span
	fkeys   []Value // group keys of first
	spans   []span
	ckeys   []Value
	pending Row // first row of the next group, not yet consumed
	eof     bool
	emitted bool
	done    bool
	rb      *RowBuilder
	scratch []byte
	err     error
}

func (a *aggregate) Fields() []Field { return a.out }
func (a *aggregate) Binary() bool    { return a.bin }
func (a *aggregate) Close()          { a.in.Close() }

func (a *aggregate) assignRoles() {
	n := len(a.fields)
	for j := range a.roles {
		a.roles[j] = aggRole{fn: -1}
	}
	in := func(c int) bool { return c >= 0 && c < n }
	claim := func(c, fn int, part uint8) {
		if in(c) && a.roles[c].fn < 0 {
			a.roles[c] = aggRole{fn: fn, part: part}
		}
	}
	for i, f := range a.funcs {
		ok := in(f.Col)
		switch f.Kind {
		case AggMin, AggMax:
			ok = ok && (f.Weight < 0 || in(f.Weight))
		case AggAvg:
			ok = ok && in(f.SumCol) && in(f.CountCol)
			a.states[i].float = ok && isFloatType(&a.fields[f.SumCol])
		case AggSum:
			a.states[i].float = ok && isFloatType(&a.fields[f.Col])
		case AggCountDistinct:
			ok = ok && in(f.Value) && (f.Weight < 0 || in(f.Weight))
		case AggSumDistinct, AggAvgDistinct:
			ok = ok && in(f.Value) && (f.Weight < 0 || in(f.Weight))
			a.states[i].float = ok && isFloatType(&a.fields[f.Value])
		case AggGroupConcat:
			ok = ok && in(f.LenCol)
		case AggCount, AggBitOr, AggBitAnd, AggBitXor:
		default:
			ok = false
		}
		if !ok {
			a.err = errBadColumn
			return
		}
		claim(f.Col, i, partMain)
		if f.Kind == AggCountDistinct && f.Value == f.Col {
			a.out = append([]Field(nil), a.fields...)
			a.out[f.Col] = countField(a.fields[f.Col].Name)
		}
	}
	for i, f := range a.funcs {
		switch f.Kind {
		case AggMin, AggMax:
			claim(f.Weight, i, partWeight)
		case AggAvg:
			claim(f.SumCol, i, partAvgSum)
			claim(f.CountCol, i, partAvgCount)
		}
	}
}

// countField describes a COUNT(DISTINCT ...) result column.
func countField(name string) Field {
	c := wire.Column{
		Name:    name,
		Charset: 63,
		Length:  21,
		Type:    mysql.MYSQL_TYPE_LONGLONG,
		Flags:   mysql.NOT_NULL_FLAG | mysql.BINARY_FLAG | mysql.NUM_FLAG,
	}
	return Field{
		Def:     wire.AppendColumnDef(nil, &c),
		Name:    name,
		Type:    c.Type,
		Flags:   c.Flags,
		Charset: c.Charset,
		Length:  c.Length,
	}
}

func (a *aggregate) fail(err error) (Row, error) {
	a.err = err
	return nil, err
}

func (a *aggregate) Next() (Row, error) {
	if a.err != nil {
		return nil, a.err
	}
	if a.done {
		return nil, nil
	}
	r := a.pending
	a.pending = nil
	if r == nil && !a.eof {
		var err error
		if r, err = a.in.Next(); err != nil {
			return a.fail(err)
		}
		a.eof = r == nil
	}
	if r == nil {
		a.done = true
		if a.ngroup == 0 && !a.emitted {
			a.emitted = true
			a.reset()
			return a.emit(false)
		}
		return nil, nil
	}
	// r starts a group: keep a copy, it outlives the input's next row.
	a.first = append(a.first[:0], r...)
	if err := layout(a.fields, a.bin, a.first, a.fspans); err != nil {
		return a.fail(err)
	}
	if err := a.group.fromSpans(a.first, a.fspans, a.fkeys); err != nil {
		return a.fail(err)
	}
	a.reset()
	if err := a.accumulate(a.first, a.fspans); err != nil {
		return a.fail(err)
	}
	for {
		r, err := a.in.Next()
		if err != nil {
			return a.fail(err)
		}
		if r == nil {
			a.eof = true
			break
		}
		if err := layout(a.fields, a.bin, r, a.spans); err != nil {
			return a.fail(err)
		}
		if a.ngroup > 0 {
			if err := a.group.fromSpans(r, a.spans, a.ckeys); err != nil {
				return a.fail(err)
			}
			if a.group.compare(a.fkeys, a.ckeys) != 0 {
				a.pending = r
				break
			}
		}
		if err := a.accumulate(r, a.spans); err != nil {
			return a.fail(err)
		}
	}
	a.emitted = true
	return a.emit(true)
}

func (a *aggregate) reset() {
	for i := range a.states {
		s := &a.states[i]
		s.num.reset()
		s.cnt.reset()
		s.flt = floatAcc{}
		s.has, s.wnull, s.n = false, false, 0
		s.val = Null
		s.bits = 0
		s.text, s.parts, s.total, s.cut = s.text[:0], 0, 0, false
		if a.funcs[i].Kind == AggBitAnd {
			s.bits = ^uint64(0)
		}
	}
}

func (a *aggregate) col(row []byte, sp []span, c int) (Value, error) {
	return decodeSpan(&a.fields[c], a.bin, row, sp[c])
}

// weightField is how weight strings are decoded: binary strings.
var weightField = Field{Type: mysql.MYSQL_TYPE_BLOB, Charset: 63}

func (a *aggregate) accumulate(row []byte, sp []span) error {
	for i := range a.funcs {
		f := &a.funcs[i]
		s := &a.states[i]
		switch f.Kind {
		case AggCount:
			v, err := a.col(row, sp, f.Col)
			if err == nil {
				err = s.num.add(v)
			}
			if err != nil {
				return err
			}
		case AggSum:
			v, err := a.col(row, sp, f.Col)
			if err != nil {
				return err
			}
			if s.float {
				s.flt.add(v)
			} else if err := s.num.add(v); err != nil {
				return err
			}
		case AggAvg:
			v, err := a.col(row, sp, f.SumCol)
			if err != nil {
				return err
			}
			if s.float {
				s.flt.add(v)
			} else if err := s.num.add(v); err != nil {
				return err
			}
			c, err := a.col(row, sp, f.CountCol)
			if err == nil {
				err = s.cnt.add(c)
			}
			if err != nil {
				return err
			}
		case AggGroupConcat:
			v, err := a.col(row, sp, f.Col)
			if err != nil {
				return err
			}
			if v.Kind == KindNull {
				continue
			}
			n, err := a.col(row, sp, f.LenCol)
			if err != nil {
				return err
			}
			u, ok := uintOf(n)
			if !ok {
				return errBadColumn
			}
			length := int64(u)
			if s.parts > 0 {
				s.text = append(s.text, f.Sep...)
				s.total += int64(len(f.Sep))
			}
			s.text = append(s.text, v.B...)
			s.total += length
			s.parts++
			// A part within a character's bytes of the limit may be cut.
			s.cut = s.cut || length > int64(f.MaxLen)-4
			if s.parts > 1 && (s.cut || s.total > int64(f.MaxLen)) {
				return ErrGroupConcatCut
			}
		case AggBitOr, AggBitAnd, AggBitXor:
			v, err := a.col(row, sp, f.Col)
			if err != nil {
				return err
			}
			u, ok := uintOf(v)
			if !ok {
				return errBadColumn
			}
			switch f.Kind {
			case AggBitOr:
				s.bits |= u
			case AggBitAnd:
				s.bits &= u
			default:
				s.bits ^= u
			}
		case AggMin, AggMax:
			var v Value
			var err error
			if f.Weight >= 0 {
				v, err = decodeSpan(&weightField, a.bin, row, sp[f.Weight])
			} else {
				v, err = a.col(row, sp, f.Col)
			}
			if err != nil {
				return err
			}
			if v.Kind == KindNull {
				continue
			}
			if s.has {
				c := f.compare(v, s.val)
				if (f.Kind == AggMin && c >= 0) || (f.Kind == AggMax && c <= 0) {
					continue
				}
			}
			s.has = true
			cs := sp[f.Col]
			s.raw = append(s.raw[:0], row[cs.start:cs.end]...)
			if f.Weight >= 0 {
				ws := sp[f.Weight]
				s.wraw = append(s.wraw[:0], row[ws.start:ws.end]...)
				s.wnull = ws.null
				s.val, err = decodeContent(&weightField, a.bin, s.wraw)
			} else {
				s.val, err = decodeContent(&a.fields[f.Col], a.bin, s.raw)
			}
			if err != nil {
				return err
			}
		case AggCountDistinct, AggSumDistinct, AggAvgDistinct:
			var v Value
			var err error
			if f.Weight >= 0 {
				v, err = decodeSpan(&weightField, a.bin, row, sp[f.Weight])
			} else {
				v, err = a.col(row, sp, f.Value)
			}
			if err != nil {
				return err
			}
			if v.Kind == KindNull || (s.has && f.compare(v, s.val) == 0) {
				continue
			}
			s.has = true
			s.n++
			s.val = v
			if v.B != nil {
				s.vbuf = append(s.vbuf[:0], v.B...)
				s.val.B = s.vbuf
			}
			if f.Kind != AggCountDistinct {
				// A new distinct value: add it to the sum and count.
				x, err := a.col(row, sp, f.Value)
				if err != nil {
					return err
				}
				if s.float {
					s.flt.add(x)
				} else if err := s.num.add(x); err != nil {
					return err
				}
				if err := s.cnt.add(Int(1)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// emit builds the output row for the current group; withFirst says
// whether a first row exists (not for the empty no-GROUP-BY case).
func (a *aggregate) emit(withFirst bool) (Row, error) {
	rb := a.rb
	rb.Begin()
	for j := range a.out {
		role := a.roles[j]
		if role.fn < 0 {
			if sp := a.fspans[j]; withFirst && !sp.null {
				rb.AppendRaw(a.first[sp.start:sp.end])
			} else {
				rb.AppendNull()
			}
			continue
		}
		if err := a.emitPart(j, role); err != nil {
			return a.fail(err)
		}
	}
	return rb.Row(), nil
}

func (a *aggregate) emitPart(j int, role aggRole) error {
	rb := a.rb
	f := &a.funcs[role.fn]
	s := &a.states[role.fn]
	switch {
	case f.Kind == AggCount, role.part == partAvgCount:
		acc := &s.num
		if role.part == partAvgCount {
			acc = &s.cnt
		}
		if !acc.nonNull {
			return rb.AppendValue(Int(0))
		}
		a.scratch = acc.appendText(a.scratch[:0])
		return rb.AppendValue(Decimal(a.scratch))
	case f.Kind == AggSum, role.part == partAvgSum:
		if s.float {
			if !s.flt.nonNull {
				return rb.AppendValue(Null)
			}
			return rb.AppendValue(Float(s.flt.sum))
		}
		if !s.num.nonNull {
			return rb.AppendValue(Null)
		}
		a.scratch = s.num.appendText(a.scratch[:0])
		return rb.AppendValue(Decimal(a.scratch))
	case f.Kind == AggAvg:
		return a.emitAvg(j, s, f.Unrounded)
	case f.Kind == AggMin, f.Kind == AggMax:
		raw := s.raw
		if role.part == partWeight {
			raw = s.wraw
			if s.wnull {
				rb.AppendNull()
				return nil
			}
		}
		if !s.has {
			rb.AppendNull()
			return nil
		}
		rb.AppendRaw(raw)
		return nil
	case f.Kind == AggCountDistinct:
		return rb.AppendValue(Int(s.n))
	case f.Kind == AggBitOr, f.Kind == AggBitAnd, f.Kind == AggBitXor:
		return rb.AppendValue(Uint(s.bits))
	case f.Kind == AggGroupConcat:
		if s.parts == 0 {
			return rb.AppendValue(Null)
		}
		return rb.AppendValue(Bytes(s.text))
	case f.Kind == AggAvgDistinct:
		return a.emitAvg(j, s, f.Unrounded)
	case f.Kind == AggSumDistinct:
		if s.float {
			if !s.flt.nonNull {
				return rb.AppendValue(Null)
			}
			return rb.AppendValue(Float(s.flt.sum))
		}
		if !s.num.nonNull {
			return rb.AppendValue(Null)
		}
		a.scratch = s.num.appendText(a.scratch[:0])
		return rb.AppendValue(Decimal(a.scratch))
	}
	return errBadColumn
}

func (a *aggregate) emitAvg(j int, s *aggState, unrounded bool) error {
	rb := a.rb
	sumNull := (s.float && !s.flt.nonNull) || (!s.float && !s.num.nonNull)
	if !s.cnt.nonNull || sumNull || s.cnt.isZero() {
		return rb.AppendValue(Null)
	}
	f := &a.out[j]
	if isFloatType(f) {
		sum := s.flt.sum
		if !s.float {
			sum = s.num.float()
		}
		return rb.AppendValue(Float(sum / s.cnt.float()))
	}
	if s.float {
		// A DECIMAL average of float sums: not a MySQL result type, but
		// do the sensible thing.
		s.num.reset()
		if err := s.num.add(Float(s.flt.sum)); err != nil {
			return err
		}
	}
	scale := min(int(f.Decimals), 38)
	if unrounded {
		// As is: the column's scale would round it.
		a.scratch = a.div.appendDivDecimal(a.scratch[:0], &s.num, &s.cnt, (scale+8)/9*9)
		rb.AppendRaw(a.scratch)
		return nil
	}
	a.scratch = a.div.appendDivDecimal(a.scratch[:0], &s.num, &s.cnt, scale)
	return rb.AppendValue(Decimal(a.scratch))
}

// uintOf reads an unsigned integer a shard returned: BIT_OR/BIT_AND/
// BIT_XOR (a BIGINT UNSIGNED), LENGTH().
func uintOf(v Value) (uint64, bool) {
	switch v.Kind {
	case KindUint:
		return v.U, true
	case KindInt:
		return uint64(v.I), true
	case KindDecimal, KindBytes:
		u, err := strconv.ParseUint(string(v.B), 10, 64)
		return u, err == nil
	}
	return 0, false
}
