package conf

import (
	"strings"
	"testing"
)

func TestSharedAndMergeText(t *testing.T) {
	nodeA := "listen: 127.0.0.1:1\nadmin: 127.0.0.1:2\ncluster: {endpoints: [http://e:1], name: c}\n# the users\nusers:\n  - {name: app, password: x}\nschemas: []\n"
	shared, err := SharedText([]byte(nodeA))
	if err != nil {
		t.Fatal(err)
	}
	s := string(shared)
	if strings.Contains(s, "listen") || strings.Contains(s, "cluster") || !strings.Contains(s, "# the users") || !strings.Contains(s, "name: app") {
		t.Errorf("shared text:\n%s", s)
	}
	nodeB := "listen: 127.0.0.1:9\ncluster: {endpoints: [http://e:1], name: c}\nusers: []\n"
	merged, err := MergeText([]byte(nodeB), shared)
	if err != nil {
		t.Fatal(err)
	}
	m := string(merged)
	if !strings.Contains(m, "127.0.0.1:9") || strings.Contains(m, "127.0.0.1:1") || strings.Contains(m, "127.0.0.1:2") || !strings.Contains(m, "name: app") || strings.Contains(m, "users: []") {
		t.Errorf("merged text:\n%s", m)
	}
	again, _ := SharedText(merged)
	if string(again) != s {
		t.Errorf("shared text changed through a merge:\n%s\nvs\n%s", again, s)
	}
	if _, err := MergeText([]byte(nodeB), []byte("- a list")); err == nil {
		t.Error("a list as cluster document: want an error")
	}
}
