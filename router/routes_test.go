package router

import "testing"

func TestAppendRoutes(t *testing.T) {
	r := func(n string) *Route { return &Route{Node: n} }
	r1, r2, r3, r4, r5 := r("a"), r("b"), r("c"), r("d"), r("e")
	tree := &Project{Input: &Limit{Input: &Concat{Inputs: []Primitive{
		&MergeSort{Input: &Scatter{Routes: []*Route{r1, r2}}},
		&Zip{Inputs: []Primitive{&Aggregate{Input: r3}, &Distinct{Input: &Filter{Input: &Compute{Input: &MemorySort{Input: r4}}}}}},
		&Broadcast{Routes: []*Route{r5}},
	}}}}
	got := AppendRoutes(nil, tree)
	want := []*Route{r1, r2, r3, r4, r5}
	if len(got) != len(want) {
		t.Fatalf("%d routes, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("route %d is %s, want %s", i, got[i].Node, want[i].Node)
		}
	}
}
