package session

import (
	"slices"
	"testing"
)

// The wait-for graph's cycles are found, each as the path around it;
// chains and waits on a cycle from outside it are none.
func TestCyclesOf(t *testing.T) {
	for _, c := range []struct {
		graph map[int][]int
		want  [][]int // each cycle, from its smallest node
	}{
		{map[int][]int{1: {2}, 2: {1}}, [][]int{{1, 2}}},
		{map[int][]int{1: {2}, 2: {3}}, nil},
		{map[int][]int{1: {2}, 2: {3}, 3: {1}, 4: {1}}, [][]int{{1, 2, 3}}},
		{map[int][]int{1: {2, 3}, 3: {1}}, [][]int{{1, 3}}},
		{map[int][]int{1: {2}, 2: {1}, 3: {4}, 4: {3}}, [][]int{{1, 2}, {3, 4}}},
	} {
		var got [][]int
		for _, cy := range cyclesOf(c.graph) {
			i := slices.Index(cy, slices.Min(cy))
			got = append(got, append(slices.Clone(cy[i:]), cy[:i]...))
		}
		slices.SortFunc(got, func(a, b []int) int { return a[0] - b[0] })
		if len(got) != len(c.want) {
			t.Errorf("%v: cycles %v, want %v", c.graph, got, c.want)
			continue
		}
		for i := range got {
			if !slices.Equal(got[i], c.want[i]) {
				t.Errorf("%v: cycles %v, want %v", c.graph, got, c.want)
			}
		}
	}
}
