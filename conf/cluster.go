package conf

import (
	"bytes"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// In cluster mode a node's file is the cluster's document (users, data
// hosts, data nodes, schemas, ...) plus the node's own keys (LocalKeys).
// SharedText and MergeText split and join the two, keeping the text of
// each as written (comments included).

// SharedText is text without this node's own keys: what the cluster stores.
func SharedText(text []byte) ([]byte, error) {
	doc, err := mapping(text)
	if err != nil {
		return nil, err
	}
	keep := doc.Content[0]
	keep.Content = pairs(keep.Content, func(k string) bool { return !slices.Contains(LocalKeys, k) })
	return encode(doc)
}

// MergeText is the cluster's document shared with local's own keys: the
// file a node runs.
func MergeText(local, shared []byte) ([]byte, error) {
	ld, err := mapping(local)
	if err != nil {
		return nil, fmt.Errorf("local file: %w", err)
	}
	sd, err := mapping(shared)
	if err != nil {
		return nil, fmt.Errorf("cluster document: %w", err)
	}
	own := pairs(ld.Content[0].Content, func(k string) bool { return slices.Contains(LocalKeys, k) })
	rest := pairs(sd.Content[0].Content, func(k string) bool { return !slices.Contains(LocalKeys, k) })
	sd.Content[0].Content = append(own, rest...)
	return encode(sd)
}

// mapping parses a YAML document whose top is a mapping (an empty text is
// an empty mapping).
func mapping(text []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the configuration must be a YAML mapping")
	}
	return &doc, nil
}

// pairs keeps the key/value pairs of a mapping's content whose key passes.
func pairs(content []*yaml.Node, keep func(string) bool) []*yaml.Node {
	var out []*yaml.Node
	for i := 0; i+1 < len(content); i += 2 {
		if keep(content[i].Value) {
			out = append(out, content[i], content[i+1])
		}
	}
	return out
}

func encode(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	e := yaml.NewEncoder(&b)
	e.SetIndent(2)
	if err := e.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), e.Close()
}
