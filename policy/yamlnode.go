package policy

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The policy is decoded into yaml.Node trees and walked by hand, rather than
// unmarshalled into structs, because every error must carry the position of
// the node it is about, unknown and duplicate keys must be refused, and
// YAML's quieter surprises (a "!main" entry read as a tag) must be caught.

// walker walks YAML nodes and records problems in sink.
type walker struct {
	sink *errorSink
}

func (w *walker) errf(n *yaml.Node, format string, args ...any) {
	w.sink.addf(n.Line, n.Column, format, args...)
}

// keyValue is one entry of a mapping.
type keyValue struct {
	key   string
	keyN  *yaml.Node
	value *yaml.Node
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// checkTag refuses YAML local tags. An unquoted "!main" in a flow list is
// not a string but a tag: `[!main, foo]` is the one-entry list ["foo"]
// tagged "!main,". Silently accepting that would turn "any branch but main"
// into "branch foo".
func (w *walker) checkTag(pos, n *yaml.Node) bool {
	if n.Tag != "" && !strings.HasPrefix(n.Tag, "!!") {
		w.errf(pos, "YAML reads %s as a tag, not as text: quote values that start with ! (write \"!main\", not !main)", n.Tag)
		return false
	}
	return true
}

// mapping returns the entries of a mapping node, refusing duplicate keys,
// merge keys and keys that are not plain strings.
func (w *walker) mapping(n *yaml.Node, what string) ([]keyValue, bool) {
	pos := n
	n = resolve(n)
	if !w.checkTag(pos, n) {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		w.errf(pos, "%s must be a mapping (key: value lines), not %s", what, describeNode(n))
		return nil, false
	}
	seen := map[string]*yaml.Node{}
	var out []keyValue
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		rk := resolve(k)
		if rk.Kind != yaml.ScalarNode || (rk.Tag != "!!str" && rk.Tag != "!!merge") {
			w.errf(k, "keys in %s must be plain names, not %s", what, describeNode(rk))
			continue
		}
		if rk.Tag == "!!merge" || rk.Value == "<<" {
			w.errf(k, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if first, dup := seen[rk.Value]; dup {
			w.errf(k, "duplicate key %q in %s (first at line %d)", rk.Value, what, first.Line)
			continue
		}
		seen[rk.Value] = k
		out = append(out, keyValue{key: rk.Value, keyN: k, value: v})
	}
	return out, true
}

// unknownKey reports a key that is not in known, suggesting the closest.
func (w *walker) unknownKey(kv keyValue, what string, known []string) {
	msg := fmt.Sprintf("unknown key %q in %s", kv.key, what)
	if s := suggest(kv.key, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	} else {
		msg += " (known keys: " + strings.Join(known, ", ") + ")"
	}
	w.errf(kv.keyN, "%s", msg)
}

// suggest returns the known key closest to key, or "" when none is close.
func suggest(key string, known []string) string {
	norm := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	best, bestDist := "", 3
	for _, k := range known {
		if k == norm {
			return k
		}
		if d := editDistance(norm, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describeNode names what a node is, for "must be X, not Y" messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "empty"
		case "!!str":
			return fmt.Sprintf("the text %q", n.Value)
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return fmt.Sprintf("a %s value", strings.TrimPrefix(n.Tag, "!!"))
	}
	return "an unknown YAML node"
}

// scalar returns the text of a scalar node. Numbers are accepted where
// text is expected when numbersOK is set (a branch may be called 2024).
func (w *walker) scalar(n *yaml.Node, what string, numbersOK bool) (string, bool) {
	pos := n
	n = resolve(n)
	if !w.checkTag(pos, n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		w.errf(pos, "%s must be text, not %s", what, describeNode(n))
		return "", false
	}
	switch {
	case n.Tag == "!!str":
		return n.Value, true
	case numbersOK && (n.Tag == "!!int" || n.Tag == "!!float"):
		return n.Value, true
	}
	w.errf(pos, "%s must be text, not %s", what, describeNode(n))
	return "", false
}

// integer returns the value of a decimal integer node.
func (w *walker) integer(n *yaml.Node, what string) (int64, bool) {
	pos := n
	n = resolve(n)
	if !w.checkTag(pos, n) {
		return 0, false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if v, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return v, true
		}
	}
	w.errf(pos, "%s must be a whole number, not %s", what, describeNode(n))
	return 0, false
}

// boolean returns the value of a true/false node.
func (w *walker) boolean(n *yaml.Node, what string) (bool, bool) {
	pos := n
	n = resolve(n)
	if !w.checkTag(pos, n) {
		return false, false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		return strings.EqualFold(n.Value, "true"), true
	}
	w.errf(pos, "%s must be true or false, not %s", what, describeNode(n))
	return false, false
}

// textList returns a list of texts with their nodes. A single scalar is a
// one-entry list, so `branch: main` and `branch: [main]` mean the same.
func (w *walker) textList(n *yaml.Node, what string, numbersOK bool) ([]string, []*yaml.Node, bool) {
	pos := n
	n = resolve(n)
	if !w.checkTag(pos, n) {
		return nil, nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			w.errf(pos, "%s is empty; give a value or remove the key", what)
			return nil, nil, false
		}
		s, ok := w.scalar(pos, what, numbersOK)
		if !ok {
			return nil, nil, false
		}
		return []string{s}, []*yaml.Node{pos}, true
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			w.errf(pos, "%s is an empty list; give at least one entry or remove the key", what)
			return nil, nil, false
		}
		ok := true
		var vals []string
		var nodes []*yaml.Node
		for _, item := range n.Content {
			s, good := w.scalar(item, what+" entry", numbersOK)
			if !good {
				ok = false
				continue
			}
			vals = append(vals, s)
			nodes = append(nodes, item)
		}
		return vals, nodes, ok
	}
	w.errf(pos, "%s must be a list, not %s", what, describeNode(n))
	return nil, nil, false
}
