package policy

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

var ruleKeys = []string{
	"rule", "action",
	"repositories", "name", "branch", "older_than", "newer_than",
	"size_greater_than", "size_less_than", "expired", "branch_deleted",
	"keep_latest", "group_by", "archive", "archive_required",
}

// ruleName restricts rule names to what reads well in reasons and logs.
// Dots are excluded so the built-in deciders ("safety.min_age",
// "policy.repositories") can never collide with a rule.
var ruleName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$`)

// rules reads the rules list. known holds the policy's repositories when
// they were valid, to catch a rule scoped to none of them.
func (w *walker) rules(n *yaml.Node, known *Selector) []Rule {
	pos := n
	n = resolve(n)
	if !w.checkTag(pos, n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		w.errf(pos, "rules must be a list, not %s", describeNode(n))
		return nil
	}
	var out []Rule
	names := map[string]*yaml.Node{}
	for _, item := range n.Content {
		r, ok := w.rule(item, known)
		if r.Name != "" {
			key := strings.ToLower(r.Name)
			if first, dup := names[key]; dup {
				w.errf(item, "duplicate rule name %q (first at line %d)", r.Name, first.Line)
				continue
			}
			names[key] = item
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// rule reads and checks one rule. It returns ok=false when the rule had
// errors, which are already recorded.
func (w *walker) rule(n *yaml.Node, known *Selector) (Rule, bool) {
	r := Rule{Line: n.Line, Column: n.Column, ArchiveRequired: true}
	entries, ok := w.mapping(n, "a rule")
	if !ok {
		return r, false
	}
	before := len(w.sink.list)
	nodes := map[string]*yaml.Node{}
	for _, kv := range entries {
		nodes[kv.key] = kv.value
		switch kv.key {
		case "rule":
			if s, ok := w.scalar(kv.value, "rule", false); ok {
				if !ruleName.MatchString(s) {
					w.errf(kv.value, "rule name %q: use 1 to 100 letters, digits, - and _, starting with a letter or digit", s)
				}
				r.Name = s
			}
		case "action":
			if s, ok := w.scalar(kv.value, "action", false); ok {
				switch Action(s) {
				case Keep, Delete:
					r.Action = Action(s)
				default:
					w.errf(kv.value, "action must be keep or delete, not %q", s)
				}
			}
		case "repositories":
			r.Repositories = w.patterns(kv.value, "repositories", true)
			r.order = append(r.order, condRepositories)
		case "name":
			r.ArtifactName = w.patterns(kv.value, "name", false)
			r.order = append(r.order, condName)
		case "branch":
			r.Branch = w.patterns(kv.value, "branch", false)
			r.order = append(r.order, condBranch)
		case "older_than":
			r.OlderThan = w.duration(kv.value, "older_than")
			r.order = append(r.order, condOlderThan)
		case "newer_than":
			r.NewerThan = w.duration(kv.value, "newer_than")
			r.order = append(r.order, condNewerThan)
		case "size_greater_than":
			r.SizeGreaterThan = w.size(kv.value, "size_greater_than")
			r.order = append(r.order, condSizeGreaterThan)
		case "size_less_than":
			r.SizeLessThan = w.size(kv.value, "size_less_than")
			r.order = append(r.order, condSizeLessThan)
		case "expired":
			if b, ok := w.boolean(kv.value, "expired"); ok {
				r.Expired = &b
			}
			r.order = append(r.order, condExpired)
		case "branch_deleted":
			if b, ok := w.boolean(kv.value, "branch_deleted"); ok {
				if !b {
					w.errf(kv.value, "branch_deleted: false is not a condition; write branch_deleted: true (the branch is gone) or leave it out")
				}
				r.BranchDeleted = b
			}
			r.order = append(r.order, condBranchDeleted)
		case "keep_latest":
			if v, ok := w.integer(kv.value, "keep_latest"); ok {
				if v < 1 || v > 1_000_000 {
					w.errf(kv.value, "keep_latest must be between 1 and 1000000, not %d (to keep nothing, remove the rule)", v)
				} else {
					r.KeepLatest = int(v)
				}
			}
		case "group_by":
			r.GroupBy = w.groupBy(kv.value)
		case "archive":
			if b, ok := w.boolean(kv.value, "archive"); ok {
				r.Archive = b
			}
		case "archive_required":
			if b, ok := w.boolean(kv.value, "archive_required"); ok {
				r.ArchiveRequired = b
			}
		default:
			w.unknownKey(kv, "a rule", ruleKeys)
		}
	}
	w.checkRule(n, &r, nodes, known)
	return r, len(w.sink.list) == before
}

// checkRule applies the checks that involve several keys of one rule.
func (w *walker) checkRule(n *yaml.Node, r *Rule, nodes map[string]*yaml.Node, known *Selector) {
	label := "rule"
	if r.Name != "" {
		label = fmt.Sprintf("rule %s", r.Name)
	}
	if _, ok := nodes["rule"]; !ok {
		msg := "rule is missing: every rule needs a unique name, like rule: keep-releases"
		if _, hasName := nodes["name"]; hasName {
			msg += " (name: matches artifact names; the rule's own name goes in rule:)"
		}
		w.errf(n, "%s", msg)
	}
	if _, ok := nodes["action"]; !ok {
		w.errf(n, "%s: action is missing; write action: keep or action: delete", label)
	}
	conditions := len(r.order)
	switch r.Action {
	case Delete:
		if v, ok := nodes["keep_latest"]; ok {
			w.errf(v, "%s: keep_latest only applies to keep rules; a delete rule deletes every artifact it matches", label)
		}
		if v, ok := nodes["group_by"]; ok {
			w.errf(v, "%s: group_by only applies to keep rules with keep_latest", label)
		}
		scoped := 0
		if nodes["repositories"] != nil {
			scoped = 1
		}
		if conditions-scoped == 0 {
			w.errf(n, "%s: a delete rule needs at least one condition besides repositories (name, branch, older_than, newer_than, size_greater_than, size_less_than, expired or branch_deleted); without one it would delete every artifact", label)
		}
		if v, ok := nodes["archive_required"]; ok && !r.Archive {
			w.errf(v, "%s: archive_required only applies with archive: true", label)
		}
	case Keep:
		if v, ok := nodes["group_by"]; ok && nodes["keep_latest"] == nil {
			w.errf(v, "%s: group_by only applies with keep_latest", label)
		}
		for _, k := range []string{"archive", "archive_required"} {
			if v, ok := nodes[k]; ok {
				w.errf(v, "%s: %s only applies to delete rules", label, k)
			}
		}
		if v, ok := nodes["branch_deleted"]; ok && nodes["keep_latest"] != nil {
			// Ranking needs to know which artifacts match; while a branch
			// listing is missing that is unknown, and a rank computed
			// without them would keep the wrong ones.
			w.errf(v, "%s: branch_deleted cannot be combined with keep_latest; keep the artifacts of deleted branches with a rule of its own", label)
		}
		if conditions == 0 && nodes["keep_latest"] == nil {
			w.errf(n, "%s: a keep rule with no condition and no keep_latest keeps every artifact, so the policy could never delete anything; add a condition", label)
		}
	}
	if r.OlderThan != nil && r.NewerThan != nil && r.NewerThan.Value <= r.OlderThan.Value {
		w.errf(nodes["newer_than"], "%s: newer_than %s and older_than %s never both hold; for an age window, newer_than must be longer than older_than", label, r.NewerThan.Text, r.OlderThan.Text)
	}
	if r.SizeLessThan != nil {
		// The largest size that is still "less than".
		maxLess := r.SizeLessThan.Bytes
		if !r.SizeLessThan.Fractional {
			maxLess--
		}
		switch {
		case maxLess < 0:
			w.errf(nodes["size_less_than"], "%s: size_less_than %s matches no artifact", label, r.SizeLessThan.Text)
		case r.SizeGreaterThan != nil && r.SizeGreaterThan.Bytes >= maxLess:
			w.errf(nodes["size_less_than"], "%s: size_greater_than %s and size_less_than %s never both hold", label, r.SizeGreaterThan.Text, r.SizeLessThan.Text)
		}
	}
	if r.Repositories != nil && known != nil {
		if !r.Repositories.couldSelect(known) {
			w.errf(nodes["repositories"], "%s: repositories %s matches none of the policy's repositories, so the rule would never apply", label, r.Repositories)
		}
	}
}

// patterns reads and compiles a pattern list.
func (w *walker) patterns(n *yaml.Node, what string, fold bool) *Patterns {
	vals, nodes, ok := w.textList(n, what, true)
	if !ok {
		return nil
	}
	p, errs := compilePatterns(vals, fold)
	for i, err := range errs {
		w.errf(nodes[i], "%s pattern %q: %v", what, vals[i], err)
	}
	return p
}

func (w *walker) duration(n *yaml.Node, what string) *Duration {
	s, ok := w.scalar(n, what, true)
	if !ok {
		return nil
	}
	d, err := parseDuration(s, false)
	if err != nil {
		w.errf(n, "%s: %v", what, err)
		return nil
	}
	return &Duration{Value: d, Text: s}
}

func (w *walker) size(n *yaml.Node, what string) *Size {
	s, ok := w.scalar(n, what, true)
	if !ok {
		return nil
	}
	sz, err := parseSize(s)
	if err != nil {
		w.errf(n, "%s: %v", what, err)
		return nil
	}
	return &sz
}

func (w *walker) groupBy(n *yaml.Node) []GroupKey {
	vals, nodes, ok := w.textList(n, "group_by", false)
	if !ok {
		return nil
	}
	var out []GroupKey
	seen := map[GroupKey]bool{}
	for i, v := range vals {
		k := GroupKey(v)
		switch k {
		case GroupName, GroupBranch, GroupHeadSHA:
		case "repository":
			w.errf(nodes[i], "group_by: repository is always part of the group; remove it")
			continue
		default:
			w.errf(nodes[i], "group_by: unknown field %q; use name, branch or head_sha", v)
			continue
		}
		if seen[k] {
			w.errf(nodes[i], "group_by: %s is listed twice", v)
			continue
		}
		seen[k] = true
		out = append(out, k)
	}
	return out
}
