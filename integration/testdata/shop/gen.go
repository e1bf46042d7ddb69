//go:build ignore

// gen writes data.sql, the data set of TestSharding, deterministically
// (fixed PCG seed: the same file on every run and every Go version).
//
//	go run ./integration/testdata/shop/gen.go   (from the repository root)
//
// Design notes:
//   - explicit ids everywhere; every order_items row references an existing order;
//   - strings that differ only by case, accents or trailing spaces (users.name,
//     orders.tag, events.kind) so that sorting and grouping must follow
//     utf8mb4_general_ci;
//   - DOUBLE values are multiples of 1/8 (or 1/4), so SUM and AVG over them are
//     exact whatever order the rows are added in (the proxy sums per shard);
//   - NULLs in nullable columns, empty strings beside NULLs in orders.note;
//   - some orders (1901..2000) have no items; some orders belong to user ids
//     (201..210) that have no users row.
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

var rng = rand.New(rand.NewPCG(20240501, 42))

func pick[T any](xs []T) T { return xs[rng.IntN(len(xs))] }

// chance returns true with probability p percent.
func chance(p int) bool { return rng.IntN(100) < p }

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\t", `\t`)
	return "'" + r.Replace(s) + "'"
}

func money(maxCents int) string {
	c := rng.IntN(maxCents) + 1
	return fmt.Sprintf("%d.%02d", c/100, c%100)
}

type table struct {
	name  string
	cols  string
	rows  []string
	batch int
}

func (t *table) add(vals ...string) { t.rows = append(t.rows, "("+strings.Join(vals, ", ")+")") }

func (t *table) write(b *strings.Builder) {
	for i := 0; i < len(t.rows); i += t.batch {
		j := min(i+t.batch, len(t.rows))
		fmt.Fprintf(b, "INSERT INTO %s (%s) VALUES\n", t.name, t.cols)
		b.WriteString(strings.Join(t.rows[i:j], ",\n"))
		b.WriteString(";\n")
	}
}

func or(null bool, v string) string {
	if null {
		return "NULL"
	}
	return v
}

func main() {
	_, self, _, _ := runtime.Caller(0)
	out := filepath.Join(filepath.Dir(self), "data.sql")

	regions := &table{name: "regions", cols: "id, name, country", batch: 20}
	regionNames := []string{"North", "South", "East", "West", "Île-de-France", "Bavaria", "Lombardy",
		"Catalonia", "Flanders", "Wallonia", "Zürich", "Tyrol", "Andalucía", "Brittany", "Scotland",
		"Wales", "Dalarna", "Skåne", "Attica", "Algarve"}
	countries := []string{"US", "US", "US", "US", "FR", "DE", "IT", "ES", "BE", "BE", "CH", "AT", "ES",
		"FR", "GB", "GB", "SE", "SE", "GR", "PT"}
	for i, n := range regionNames {
		c := quote(countries[i])
		if i == 3 { // one region without a country
			c = "NULL"
		}
		regions.add(fmt.Sprint(i+1), quote(n), c)
	}

	users := &table{name: "users", cols: "id, name, email, region_id, created, balance", batch: 50}
	names := []string{"alice", "Alice", "ALICE", "Álice", "alice ", "Bob", "bob", "BOB", "Böb",
		"Chloé", "chloe", "Chloe", "Émile", "emile", "Zoë", "zoe", "Zoe", "Åsa", "asa", "Müller",
		"muller", "Mueller", "O'Brien", "o'brien", "Jürgen", "jurgen", "Ana", "ana", "Ana Maria",
		"ana maria", " ana", "李雷", "Łukasz", "Nuño", "nuno", "Back\\slash", "Zed", "zed  "}
	day0 := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	for id := 1; id <= 200; id++ {
		name := pick(names)
		email := "NULL"
		if !chance(15) {
			email = quote(fmt.Sprintf("%s%d@example.com", strings.ToLower(strings.Map(func(r rune) rune {
				if r < 128 && r != ' ' && r != '\'' && r != '\\' {
					return r
				}
				return -1
			}, name)), id))
		}
		region := or(chance(10), fmt.Sprint(rng.IntN(20)+1))
		created := day0.AddDate(0, 0, rng.IntN(730)).Format("2006-01-02")
		bal := "NULL"
		if !chance(10) {
			c := rng.IntN(1_050_000) - 50_000
			sign := ""
			if c < 0 {
				sign, c = "-", -c
			}
			bal = fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
		}
		users.add(fmt.Sprint(id), quote(name), email, region, quote(created), bal)
	}

	orders := &table{name: "orders", cols: "id, user_id, region_id, amount, status, tag, created, qty, score, note", batch: 100}
	statuses := []string{"new", "new", "new", "paid", "paid", "paid", "paid", "paid", "paid", "paid", "paid",
		"shipped", "shipped", "shipped", "shipped", "shipped", "shipped", "cancelled", "cancelled", "returned"}
	tags := []string{"red", "Red", "RED", "rèd", "blue", "Blue ", "BLUE", "blüe", "green", "Green", "grün"}
	notes := []string{"", "gift", "Gift wrap", "leave at door", "call before", "it's fragile",
		`C:\path\to`, "naïve café", "ünïcödé ✓", "50% off", "under_score", "two  spaces", "tab\there", "line\nbreak"}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for id := 1; id <= 2000; id++ {
		uid := rng.IntN(210) + 1
		if chance(20) { // some heavy users
			uid = pick([]int{7, 8, 42, 99})
		}
		region := or(chance(5), fmt.Sprint(rng.IntN(20)+1))
		tag := "NULL"
		if !chance(8) {
			tag = quote(pick(tags))
		}
		created := t0.Add(time.Duration(rng.IntN(366*86400)) * time.Second).Format("2006-01-02 15:04:05")
		score := or(chance(10), fmt.Sprint(float64(rng.IntN(800))/8))
		note := "NULL"
		if !chance(30) {
			note = quote(pick(notes))
		}
		orders.add(fmt.Sprint(id), fmt.Sprint(uid), region, money(99999), quote(pick(statuses)), tag,
			quote(created), fmt.Sprint(rng.IntN(10)+1), score, note)
	}

	items := &table{name: "order_items", cols: "id, order_id, product_id, qty, price", batch: 250}
	for id := 1; id <= 5000; id++ {
		items.add(fmt.Sprint(id), fmt.Sprint(rng.IntN(1900)+1), fmt.Sprint(rng.IntN(100)+1),
			fmt.Sprint(rng.IntN(5)+1), money(50000))
	}

	products := &table{name: "products", cols: "id, name, category, price, stock, origin_region", batch: 100}
	cats := []string{"books", "games", "garden", "tools", "food"}
	adjs := []string{"Red", "Blue", "Small", "Large", "Smart", "Old", "New", "Fast", "Quiet", "Golden"}
	nouns := []string{"Lamp", "Chair", "Book", "Game", "Spade", "Hammer", "Cheese", "Tea", "Kite", "Clock"}
	for id := 1; id <= 100; id++ {
		name := fmt.Sprintf("%s %s %03d", adjs[(id-1)%10], nouns[(id-1)/10], id)
		products.add(fmt.Sprint(id), quote(name), quote(pick(cats)), money(20000),
			or(chance(10), fmt.Sprint(rng.IntN(500))), or(chance(5), fmt.Sprint(rng.IntN(20)+1)))
	}

	accounts := &table{name: "accounts", cols: "code, owner, level, credit, opened, tier, perks", batch: 40}
	// ENUM and SET values whose labels sort unlike their positions (no
	// random draws: the rows after these stay as they were).
	tiers := []string{"NULL", "'gold'", "'basic'", "'silver'", "'basic'"}
	perks := []string{"''", "'wifi'", "'lounge'", "'bags'", "'wifi,bags'", "'lounge,bags'", "'wifi,lounge,bags'"}
	owners := []string{"ACME", "acme", "Globex", "Initech", "initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell"}
	for i := 1; i <= 120; i++ {
		credit := "NULL"
		if !chance(15) {
			c := rng.IntN(10_000_000)
			credit = fmt.Sprintf("%d.%03d", c/1000, c%1000)
		}
		accounts.add(quote(fmt.Sprintf("acc-%04d", i)), quote(pick(owners)), fmt.Sprint(rng.IntN(5)+1), credit,
			quote(day0.AddDate(0, 0, rng.IntN(600)).Format("2006-01-02")), tiers[i%len(tiers)], perks[i%len(perks)])
	}

	events := &table{name: "events", cols: "id, kind, value, amount, happened", batch: 125}
	kinds := []string{"click", "Click", "view", "VIEW", "buy", "share"}
	for id := 1; id <= 1000; id++ {
		c := rng.IntN(1_000_000)
		events.add(fmt.Sprint(id), quote(pick(kinds)), or(chance(12), fmt.Sprint(rng.IntN(1000)-100)),
			fmt.Sprintf("%d.%03d", c/1000, c%1000),
			quote(t0.Add(time.Duration(rng.IntN(200*86400))*time.Second).Format("2006-01-02 15:04:05")))
	}

	visits := &table{name: "visits", cols: "id, visit_date, user_id, pages, duration, source", batch: 100}
	sources := []string{"ads", "organic", "email", "social"}
	for id := 1; id <= 400; id++ {
		src := "NULL"
		if !chance(10) {
			src = quote(pick(sources))
		}
		visits.add(fmt.Sprint(id), quote(t0.AddDate(0, 0, rng.IntN(731)).Format("2006-01-02")),
			fmt.Sprint(rng.IntN(200)+1), fmt.Sprint(rng.IntN(30)+1), or(chance(10), fmt.Sprint(float64(rng.IntN(4000))/4)), src)
	}

	var b strings.Builder
	b.WriteString("-- Generated by gen.go (go run ./integration/testdata/shop/gen.go); do not edit.\n")
	for _, t := range []*table{regions, users, orders, items, products, accounts, events, visits} {
		t.write(&b)
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
