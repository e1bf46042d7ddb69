package shardrules

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// date: time buckets. Options:
//
//	unit: day | month | year   required; the bucket size
//	start: "2024-01-01"        required; the first bucket starts here (for month the
//	                           first of a month, for year the first of January)
//	per_shard: N               buckets per shard, default 1
//	wrap: true | false         default false: a date past the last shard is an error;
//	                           true: shards are reused cyclically (bucket/per_shard mod shards)
//
// Shard i holds buckets [i*per_shard, (i+1)*per_shard) counted from start.
// Values are calendar text, compared without time zones: 'YYYY-MM-DD',
// 'YYYY-MM-DD HH:MM:SS[.ffffff]' (or with a T), and, as MySQL reads them in
// a date context, the integers (or digit strings) YYYYMMDD and
// YYYYMMDDHHMMSS, for every unit. A date before start is an error.
//
// Range-capable: the buckets between the bounds are enumerated; with wrap, a
// range wider than one cycle of shards (or open above) covers every shard.
type dateAlg struct {
	n     int
	per   int64
	unit  string
	start civil
	wrap  bool
}

// civil is a calendar date; midnight says the value had no time of day (or 00:00:00).
type civil struct {
	y, m, d  int
	midnight bool
}

func newDate(o *opts) (Algorithm, error) {
	a := &dateAlg{n: o.n}
	v, ok := o.get("unit")
	if !ok {
		return nil, optErr("unit", "required: day, month or year")
	}
	a.unit, _ = v.(string)
	if a.unit != "day" && a.unit != "month" && a.unit != "year" {
		return nil, optErr("unit", "want day, month or year, got %s", describe(v))
	}
	v, ok = o.get("start")
	if !ok {
		return nil, optErr("start", `required: the first day of shard 0, e.g. "2024-01-01"`)
	}
	s, _ := anyString(v)
	c, why := parseDate(StringValue(s))
	switch {
	case why != "" || !c.midnight:
		return nil, optErr("start", "want a date like \"2024-01-01\", got %s", describe(v))
	case a.unit == "month" && c.d != 1:
		return nil, optErr("start", "%s: with unit month, start must be the first of a month", s)
	case a.unit == "year" && (c.m != 1 || c.d != 1):
		return nil, optErr("start", "%s: with unit year, start must be January 1st", s)
	}
	a.start = c
	per, err := o.int("per_shard", 1)
	if err != nil {
		return nil, err
	}
	if per < 1 || per > 1_000_000 {
		return nil, optErr("per_shard", "must be between 1 and 1000000, got %d", per)
	}
	a.per = per
	if a.wrap, err = o.bool("wrap", false); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *dateAlg) Name() string { return "date" }

// units counts unit steps from year 0 (day: from 1970-01-01) to c.
func (a *dateAlg) units(c civil) int64 {
	switch a.unit {
	case "year":
		return int64(c.y)
	case "month":
		return int64(c.y)*12 + int64(c.m-1)
	}
	return time.Date(c.y, time.Month(c.m), c.d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// bucket is c's bucket number counted from start (negative before start).
func (a *dateAlg) bucket(c civil) int64 { return a.units(c) - a.units(a.start) }

// bucketStart reports whether c is the first instant of its bucket.
func (a *dateAlg) bucketStart(c civil) bool {
	return c.midnight && (a.unit == "day" || c.d == 1 && (a.unit == "month" || c.m == 1))
}

func (a *dateAlg) Shard(v Value) (int, error) {
	if v.IsNull() {
		return 0, nil
	}
	c, why := parseDate(v)
	if why != "" {
		return 0, valueErr("date", v, "%s", why)
	}
	b := a.bucket(c)
	if b < 0 {
		return 0, valueErr("date", v, "before start %s", a.start)
	}
	s := b / a.per
	if s >= int64(a.n) {
		if !a.wrap {
			return 0, valueErr("date", v, "past the last shard, which ends before %s (set wrap: true to reuse shards)", a.end())
		}
		s %= int64(a.n)
	}
	return int(s), nil
}

// end is the first date past the last shard.
func (a *dateAlg) end() civil {
	k := int(int64(a.n) * a.per)
	t := time.Date(a.start.y, time.Month(a.start.m), a.start.d, 0, 0, 0, 0, time.UTC)
	switch a.unit {
	case "year":
		t = t.AddDate(k, 0, 0)
	case "month":
		t = t.AddDate(0, k, 0)
	default:
		t = t.AddDate(0, 0, k)
	}
	return civil{y: t.Year(), m: int(t.Month()), d: t.Day(), midnight: true}
}

func (a *dateAlg) Range(lo, hi *Value, loIncl, hiIncl bool) ([]int, bool) {
	var bl, bh int64
	if lo != nil {
		c, why := parseDate(*lo)
		if why != "" {
			return allShards(a.n), false
		}
		bl = max(a.bucket(c), 0) // nothing lives before start
	}
	if hi == nil {
		if a.wrap {
			return allShards(a.n), false
		}
		bh = int64(a.n)*a.per - 1
	} else {
		c, why := parseDate(*hi)
		if why != "" {
			return allShards(a.n), false
		}
		bh = a.bucket(c)
		if !hiIncl && a.bucketStart(c) {
			bh-- // v < '2024-02-01' needs nothing of February
		}
	}
	if bh < bl {
		return []int{}, true
	}
	sl, sh := bl/a.per, bh/a.per
	if !a.wrap {
		if sl >= int64(a.n) {
			return []int{}, true // past the last shard: such rows cannot exist
		}
		sh = min(sh, int64(a.n)-1)
	} else if sh-sl+1 >= int64(a.n) {
		return allShards(a.n), false
	}
	var out []int
	for s := sl; s <= sh; s++ {
		out = append(out, int(s%int64(a.n)))
	}
	return sortedUnique(out), true
}

func (c civil) String() string { return fmt.Sprintf("%04d-%02d-%02d", c.y, c.m, c.d) }

// parseDate reads v as a date or datetime (see dateAlg); why != "" says why not.
func parseDate(v Value) (c civil, why string) {
	var s string
	switch v.kind {
	case StringKind:
		s = strings.TrimSpace(v.s)
		if !allDigits(s) {
			return parseDateText(s)
		}
	case NullKind:
		return c, "NULL is not a date"
	default:
		n, ok := v.number()
		if !ok || n.neg || n.fp != "" {
			return c, badDate
		}
		s = n.ip
	}
	var f []string // year, month, day, hour, minute, second
	switch len(s) {
	case 8:
		f = []string{s[:4], s[4:6], s[6:8], "0", "0", "0"}
	case 14:
		f = []string{s[:4], s[4:6], s[6:8], s[8:10], s[10:12], s[12:14]}
	default:
		return c, badDate
	}
	return checkDate(f, "")
}

// parseDateText reads 'YYYY-M-D', optionally followed by ' ' or 'T' and 'H:M:S[.ffffff]'.
func parseDateText(s string) (civil, string) {
	date, tod, hasTime := strings.Cut(s, " ")
	if !hasTime {
		date, tod, hasTime = strings.Cut(s, "T")
	}
	f := strings.Split(date, "-")
	if len(f) != 3 || len(f[0]) != 4 || len(f[1]) > 2 || len(f[2]) > 2 {
		return civil{}, badDate
	}
	frac := ""
	if !hasTime {
		f = append(f, "0", "0", "0")
	} else {
		tod, frac, _ = strings.Cut(strings.TrimSpace(tod), ".")
		t := strings.Split(tod, ":")
		if len(t) != 3 || len(t[0]) > 2 || len(t[1]) > 2 || len(t[2]) > 2 || len(frac) > 6 || !allDigits(frac) {
			return civil{}, badDate
		}
		f = append(f, t...)
	}
	return checkDate(f, frac)
}

const badDate = "not a date: want 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]', YYYYMMDD or YYYYMMDDHHMMSS"

// checkDate reads year, month, day, hour, minute and second fields.
func checkDate(f []string, frac string) (civil, string) {
	var n [6]int
	for i, s := range f {
		if s == "" || !allDigits(s) {
			return civil{}, badDate
		}
		n[i], _ = strconv.Atoi(s) // at most 4 digits
	}
	c := civil{y: n[0], m: n[1], d: n[2], midnight: n[3] == 0 && n[4] == 0 && n[5] == 0 && strings.Trim(frac, "0") == ""}
	if c.y < 1 || c.m < 1 || c.m > 12 || c.d < 1 || c.d > daysIn(c.y, c.m) || n[3] > 23 || n[4] > 59 || n[5] > 59 {
		return c, "no such date or time"
	}
	return c, ""
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
