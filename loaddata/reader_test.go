package loaddata

import (
	"fmt"
	"strings"
	"testing"
)

// TestReader: text → rows (their text and key field), fed whole and a
// byte at a time.
func TestReader(t *testing.T) {
	tsv := Format{FieldTerm: "\t", LineTerm: "\n", Enclosed: -1, Escape: '\\'}
	csv := Format{FieldTerm: ",", LineTerm: "\r\n", Enclosed: '"', Escape: '\\'}
	for _, c := range []struct {
		name        string
		f           Format
		fields, key int
		skip        uint64
		text        string
		want        string
	}{
		{"plain", tsv, 3, 0, 0, "1\ta\tb\n2\tc\td\n", `["1\ta\tb\n" 1] ["2\tc\td\n" 2]`},
		{"no last terminator, key second", tsv, 2, 1, 0, "a\t7\nb\t8", `["a\t7\n" 7] ["b\t8" 8]`},
		{"escapes", tsv, 2, 1, 0, "x\\\ny\t4\\5\nz\t\\N\n", `["x\\\ny\t4\\5\n" 45] ["z\t\\N\n" NULL]`},
		{"missing and extra fields", tsv, 2, 1, 0, "1\n2\t3\t4\t5\n\n", `["1\n" -] ["2\t3\t4\t5\n" 3] ["\n" -]`},
		{"skipped lines", tsv, 2, 0, 2, "h1\th2\nh\\\nh\t3\n9\t9\n", `["9\t9\n" 9]`},
		{"enclosed", csv, 2, 1, 0, "\"a,\r\nb\",\"1\"\"2\"\r\n\"x\"y\",NULL\r\nz,\"NULL\"\r\n",
			`["\"a,\r\nb\",\"1\"\"2\"\r\n" 1"2] ["\"x\"y\",NULL\r\n" NULL] ["z,\"NULL\"\r\n" NULL]`},
		{"prefix", Format{FieldTerm: ",", LineTerm: "\n", LineStart: "xx", Enclosed: -1, Escape: '\\'}, 2, 0, 0,
			"junk\nmore xx1,a\nnone\nxx2,b\nxx", `["xx1,a\n" 1] ["xx2,b\n" 2]`},
		{"escape is the enclosure", Format{FieldTerm: ",", LineTerm: "\n", Enclosed: '"', Escape: '"'}, 2, 1, 0,
			"1,\"a\"\"b\"\n2,\"c", `["1,\"a\"\"b\"\n" a"b] ["2,\"c" c]`},
		{"terminators of several bytes", Format{FieldTerm: "||", LineTerm: "##\n", Enclosed: -1, Escape: '\\'}, 2, 1, 0,
			"1|x||a#b##\n2||c##", `["1|x||a#b##\n" a#b] ["2||c##" c##]`}, // ("##" is not "##\n")
		{"extra fields read to the line's end, unenclosed", csv, 1, 0, 0, "1,\"a\r\nb\"\r\n2\r\n", `["1,\"a\r\n" 1] ["b\"\r\n" b"] ["2\r\n" 2]`},
	} {
		for _, step := range []int{0, 1} {
			r := NewReader(c.f, c.fields, c.key, c.skip)
			var got []string
			read := func() {
				for {
					row, ok, err := r.Next()
					if err != nil {
						t.Fatalf("%s: %v", c.name, err)
					}
					if !ok {
						return
					}
					key := "-"
					switch {
					case row.KeyNull:
						key = "NULL"
					case row.KeyFound:
						key = string(row.Key)
					}
					got = append(got, fmt.Sprintf("[%q %s]", row.Line, key))
				}
			}
			if step == 0 {
				r.Feed([]byte(c.text))
				read()
			} else {
				for i := range c.text {
					r.Feed([]byte{c.text[i]})
					read()
				}
			}
			r.End()
			read()
			if s := strings.Join(got, " "); s != c.want {
				t.Errorf("%s (step %d):\n got  %s\n want %s", c.name, step, s, c.want)
			}
		}
	}
}

// FuzzReader: any text, fed whole or in pieces, gives the same rows, and
// never panics.
func FuzzReader(f *testing.F) {
	f.Add([]byte("1\ta\n2\t\\N\n"), uint8(3), false)
	f.Add([]byte("\"a,\r\nb\",\"1\"\"2\"\r\nz,NULL"), uint8(2), true)
	f.Fuzz(func(t *testing.T, text []byte, piece uint8, csv bool) {
		form := Format{FieldTerm: "\t", LineTerm: "\n", Enclosed: -1, Escape: '\\'}
		if csv {
			form = Format{FieldTerm: ",", LineTerm: "\r\n", LineStart: "x", Enclosed: '"', Escape: '\\'}
		}
		read := func(step int) []string {
			r := NewReader(form, 3, 1, 1)
			var rows []string
			drain := func() {
				for {
					row, ok, err := r.Next()
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						return
					}
					rows = append(rows, fmt.Sprintf("%q %q %v %v", row.Line, row.Key, row.KeyNull, row.KeyFound))
				}
			}
			for i := 0; i < len(text); i += step {
				r.Feed(text[i:min(i+step, len(text))])
				drain()
			}
			r.End()
			drain()
			return rows
		}
		whole, pieces := read(max(len(text), 1)), read(int(piece%7)+1)
		if strings.Join(whole, "\n") != strings.Join(pieces, "\n") {
			t.Errorf("whole:\n%s\npieces of %d:\n%s", strings.Join(whole, "\n"), piece%7+1, strings.Join(pieces, "\n"))
		}
	})
}
