package conf

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// UnmarshalYAML reads the mapping table name -> rule, keeping file order and
// each key's line.
func (m *TableMap) UnmarshalYAML(n *yaml.Node) error {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: tables must be a mapping of table name to rule", n.Line)}}
	}
	var errs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		t := Table{Name: k.Value, Line: k.Line}
		if err := v.Decode(&t); err != nil {
			// Collect, as the decoder does, so one bad rule hides no other.
			var te *yaml.TypeError
			if !errors.As(err, &te) {
				return err
			}
			errs = append(errs, te.Errors...)
		}
		*m = append(*m, t)
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// MarshalYAML writes the tables as a mapping in their order.
func (m TableMap) MarshalYAML() (any, error) {
	out := &yaml.Node{Kind: yaml.MappingNode}
	for i := range m {
		v := &yaml.Node{}
		if err := v.Encode(&m[i]); err != nil {
			return nil, err
		}
		out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: m[i].Name}, v)
	}
	return out, nil
}

// Marshal writes c as YAML that Parse reads back to an equal config (Path
// and Table.Line aside) when c is valid, e.g. as Parse returned it. Keys equal to their defaults are left out, sizes
// are written as "64M", and small mappings and lists stay on one line, the
// way the example in DESIGN.md is written.
func Marshal(c *Config) ([]byte, error) {
	var doc, def yaml.Node
	if err := doc.Encode(c); err != nil {
		return nil, err
	}
	if err := def.Encode(defaults()); err != nil {
		return nil, err
	}
	dropDefaults(&doc, &def)
	if _, v := mapEntry(&doc, "max_allowed_packet"); v != nil {
		if n, err := strconv.Atoi(v.Value); err == nil {
			v.Value, v.Tag = FormatSize(n), "!!str"
		}
	}
	for i := 1; i < len(doc.Content); i += 2 {
		inline(doc.Content[i])
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// defaults is a config holding the defaults Marshal leaves out, with one data
// host and one replica as the pattern for each item of those lists. Listen is
// not among them: a file should say where it listens.
func defaults() *Config {
	return &Config{
		MaxConnections:   DefaultMaxConnections,
		MaxAllowedPacket: DefaultMaxAllowedPacket,
		Log:              Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
		DataHosts: []DataHost{{Pool: DefaultPool(), Replicas: []Replica{{Weight: DefaultReplicaWeight}},
			Balance: DefaultBalance, Heartbeat: DefaultHeartbeat, MaxReplicaLag: DefaultMaxReplicaLag,
			Failover: DefaultFailover, FailoverAfter: DefaultFailoverAfter, FailoverWait: DefaultFailoverWait}},
	}
}

// dropDefaults removes from n each key whose scalar value equals the same
// key's in def, and mappings left empty by that. A one-item sequence in def
// is the pattern for every item of n's sequence.
func dropDefaults(n, def *yaml.Node) {
	if n.Kind == yaml.DocumentNode {
		dropDefaults(n.Content[0], def.Content[0])
		return
	}
	switch {
	case n.Kind == yaml.MappingNode && def.Kind == yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if _, d := mapEntry(def, k.Value); d != nil {
				dropDefaults(v, d)
				if v.Kind == yaml.ScalarNode && d.Kind == yaml.ScalarNode && v.Value == d.Value ||
					v.Kind == yaml.MappingNode && len(v.Content) == 0 {
					continue
				}
			}
			kept = append(kept, k, v)
		}
		n.Content = kept
	case n.Kind == yaml.SequenceNode && def.Kind == yaml.SequenceNode && len(def.Content) == 1:
		for _, item := range n.Content {
			dropDefaults(item, def.Content[0])
		}
	}
}

// inline gives flow style ({a: 1}, [x, y]) to collections of scalars or of
// other inline collections that fit in about one line. It returns the
// width n takes inline, or -1 when n stays in block style.
func inline(n *yaml.Node) int {
	if n.Kind == yaml.ScalarNode {
		if bytes.ContainsAny([]byte(n.Value), "\n") {
			return -1
		}
		return len(n.Value) + 2
	}
	width := 2
	for _, c := range n.Content {
		if w := inline(c); w < 0 || width < 0 {
			width = -1
		} else {
			width += w
		}
	}
	if width < 0 || width > 72 {
		return -1
	}
	n.Style = yaml.FlowStyle
	return width
}
