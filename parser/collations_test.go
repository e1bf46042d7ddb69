package parser

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRegisterCollations(t *testing.T) {
	sql := "CREATE TABLE t (a VARCHAR(5) COLLATE utf8mb4_uca1400_ai_ci, b VARCHAR(5) CHARACTER SET latin2 COLLATE latin2_czech_cs, c TEXT COLLATE utf8mb4_nopad_bin)"
	// A name no parser knows: unknown before, parsed after (whatever an
	// earlier run of this test registered).
	unknown := fmt.Sprintf("CREATE TABLE u (a TEXT COLLATE utf8mb4_sgtest%d_ci)", time.Now().UnixNano())
	if _, err := Parse(unknown); err == nil {
		t.Fatal("an unregistered collation parsed")
	}
	name := unknown[strings.Index(unknown, "utf8mb4_sgtest"):strings.LastIndex(unknown, ")")]
	RegisterCollations([]Collation{
		{ID: 4000, Charset: "utf8mb4", Name: name},
		{ID: 2304, Charset: "utf8mb4", Name: "utf8mb4_uca1400_ai_ci"},
		{ID: 1070, Charset: "utf8mb4", Name: "utf8mb4_nopad_bin"},
		{ID: 2, Charset: "latin2", Name: "latin2_czech_cs"},
		{ID: 9, Charset: "latin2", Name: "latin2_general_ci", Default: true},
		{ID: 45, Charset: "utf8mb4", Name: "utf8mb4_general_ci", Default: true}, // known: kept
	})
	stmts, err := Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(unknown); err != nil {
		t.Fatalf("registered collation %s: %v", name, err)
	}
	got, err := Restore(stmts)
	want := "CREATE TABLE `t` (`a` VARCHAR(5) COLLATE utf8mb4_uca1400_ai_ci,`b` VARCHAR(5) CHARACTER SET LATIN2 COLLATE latin2_czech_cs,`c` TEXT COLLATE utf8mb4_nopad_bin)"
	if err != nil || got != want {
		t.Fatalf("got %q, %v\nwant %q", got, err, want)
	}
}
