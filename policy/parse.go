package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxPolicyBytes bounds the policy file: a real one is a few kilobytes, and
// the bound keeps a hostile or mistaken file from costing much to parse.
const maxPolicyBytes = 1 << 20

// Load reads and validates the policy file at path. It is the package's
// only function that does I/O.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy file: %w", err)
	}
	return ParseFile(path, data)
}

// Parse validates a policy given as bytes; positions in errors name the
// file "<input>".
func Parse(data []byte) (*Policy, error) {
	return ParseFile("<input>", data)
}

// ParseFile validates a policy read from the file called name. On failure
// the error is an ErrorList holding every problem found, each with its
// line and column.
func ParseFile(name string, data []byte) (*Policy, error) {
	sum := sha256.Sum256(data)
	p := &Policy{
		File:   name,
		SHA256: hex.EncodeToString(sum[:]),
		MinAge: DefaultMinAge,
	}
	sink := &errorSink{file: name}
	w := &walker{sink: sink}
	if len(data) > maxPolicyBytes {
		sink.addf(1, 1, "policy file is larger than 1 MiB")
		return nil, sink.result()
	}
	root := decodeDocument(data, sink)
	if root == nil {
		return nil, sink.result()
	}
	w.policy(root, p)
	if err := sink.result(); err != nil {
		return nil, err
	}
	return p, nil
}

// yamlLine pulls the line number out of a yaml.v3 syntax error, which has
// no column and no error type to read it from.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// decodeDocument parses data as exactly one YAML document and returns its
// root node, or nil after recording why it could not.
func decodeDocument(data []byte, sink *errorSink) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		addSyntaxError(sink, data, err)
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		sink.addf(1, 1, "policy file is empty; it needs at least version, repositories and rules")
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		addSyntaxError(sink, data, err)
		return nil
	default:
		sink.addf(extra.Line, extra.Column, "a policy file holds one YAML document; remove the second one (after ---)")
		return nil
	}
	root := doc.Content[0]
	if r := resolve(root); r.Kind == yaml.ScalarNode && r.Tag == "!!null" {
		sink.addf(root.Line, root.Column, "policy file is empty; it needs at least version, repositories and rules")
		return nil
	}
	return root
}

// yamlParserProblems are the yaml.v3 parser's (not scanner's) messages.
// The parser reports 0-based line numbers where the scanner reports 1-based
// ones, so the line of these needs one added.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

func addSyntaxError(sink *errorSink, data []byte, err error) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			line = n
			if yamlParserProblems[msg] {
				line++
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	line, col, msg := refineSyntaxError(data, line, msg)
	sink.addf(line, col, "YAML syntax error: %s", msg)
}

var topKeys = []string{"version", "repositories", "include_archived", "safety", "rules"}

// policy walks the top-level mapping into p.
func (w *walker) policy(root *yaml.Node, p *Policy) {
	entries, ok := w.mapping(root, "the policy")
	if !ok {
		return
	}
	var rulesNode *yaml.Node
	seenVersion, seenRepos := false, false
	reposOK := false
	for _, kv := range entries {
		switch kv.key {
		case "version":
			seenVersion = true
			if v, ok := w.integer(kv.value, "version"); ok {
				if v != 1 {
					w.errf(kv.value, "unsupported version %d; this retentiond understands version 1", v)
				}
				p.Version = int(v)
			}
		case "repositories":
			seenRepos = true
			p.Selector, reposOK = w.repositories(kv.value)
			p.Repositories = p.Selector.Listed()
		case "include_archived":
			p.IncludeArchived, _ = w.boolean(kv.value, "include_archived")
		case "safety":
			w.safety(kv.value, p)
		case "rules":
			rulesNode = kv.value
		default:
			w.unknownKey(kv, "the policy", topKeys)
		}
	}
	if !seenVersion {
		w.errf(root, "version is missing; add version: 1")
	}
	if !seenRepos {
		w.errf(root, "repositories is missing; list the repositories to scan, as owner/name or owner/pattern (acme/*)")
	}
	if rulesNode != nil {
		var known *Selector
		if reposOK {
			known = p.Selector
		}
		p.Rules = w.rules(rulesNode, known)
	}
}

// repositories reads the top-level list of repositories to scan: plain
// owner/name entries, owner/glob patterns and !owner/glob exclusions.
func (w *walker) repositories(n *yaml.Node) (*Selector, bool) {
	vals, nodes, ok := w.textList(n, "repositories", false)
	if !ok {
		return nil, false
	}
	sel, errs := compileSelector(vals, func(i int) (int, int) { return nodes[i].Line, nodes[i].Column })
	for i := range vals {
		if err, bad := errs[i]; bad {
			w.errf(nodes[i], "%v", err)
		}
	}
	if len(errs) > 0 {
		return nil, false
	}
	return sel, true
}

// safety reads the safety section.
func (w *walker) safety(n *yaml.Node, p *Policy) {
	entries, ok := w.mapping(n, "safety")
	if !ok {
		return
	}
	for _, kv := range entries {
		switch kv.key {
		case "min_age":
			v := resolve(kv.value)
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				w.errf(kv.value, "safety.min_age is empty; write a duration like 24h, or 0s to disable it")
				continue
			}
			text, ok := w.scalar(kv.value, "safety.min_age", true)
			if !ok {
				continue
			}
			d, err := parseDuration(text, true)
			if err != nil {
				w.errf(kv.value, "safety.min_age: %v", err)
				continue
			}
			p.MinAge = d
			p.minAgeText = text
		default:
			w.unknownKey(kv, "safety", []string{"min_age"})
		}
	}
}
