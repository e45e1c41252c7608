package policy

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Describe writes a summary of p for people, as `retentiond policy check`
// prints it: the repositories, the safety net and each rule in words, with
// every duration and size also spelled out so that "6m" cannot pass for
// six months.
func Describe(w io.Writer, p *Policy) error {
	var b strings.Builder
	fmt.Fprintf(&b, "policy %s (version %d, sha256 %s)\n", p.File, p.Version, p.SHA256)
	describeRepositories(&b, p)
	b.WriteString("\nsafety:\n")
	if p.MinAge == 0 {
		b.WriteString("  safety.min_age is 0: an artifact may be deleted as soon as a delete rule matches it\n")
	} else {
		fmt.Fprintf(&b, "  nothing younger than %s (%s) is ever deleted\n", p.minAgeString(), durationWords(p.MinAge))
	}
	b.WriteString("  nothing with an unknown creation time is ever deleted\n")

	fmt.Fprintf(&b, "\nrules (%d):\n", len(p.Rules))
	if len(p.Rules) == 0 {
		b.WriteString("  none: nothing is ever deleted\n")
	}
	for n := range p.Rules {
		describeRule(&b, n+1, &p.Rules[n])
	}
	b.WriteString("\nAn artifact is deleted when a delete rule matches it, no keep rule keeps it and it is\n" +
		"at least safety.min_age old. Keep always wins. When several rules apply, the first one\n" +
		"listed is the one a decision names. Ages count from created_at; keep_latest counts the\n" +
		"newest by created_at (ties: the larger id) among the artifacts matching its own conditions.\n")
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("writing policy summary: %w", err)
	}
	return nil
}

func describeRule(b *strings.Builder, n int, r *Rule) {
	conds := conditionWords(r)
	fmt.Fprintf(b, "  %d. %s (line %d): ", n, r.Name, r.Line)
	switch {
	case r.Action == Keep && r.KeepLatest > 0:
		fmt.Fprintf(b, "keep the %s of each %s", newestWords(r.KeepLatest), groupWords(r.GroupBy))
		if len(conds) > 0 {
			fmt.Fprintf(b, ",\n       among the artifacts where %s", strings.Join(conds, " and "))
		}
	case r.Action == Keep:
		fmt.Fprintf(b, "keep every artifact where %s", strings.Join(conds, " and "))
	default:
		fmt.Fprintf(b, "delete artifacts where %s", strings.Join(conds, " and "))
	}
	b.WriteString("\n")
	if r.Branch != nil {
		b.WriteString("       (an artifact without a branch never matches a branch condition)\n")
	}
	if r.Action == Delete && r.Archive {
		if r.ArchiveRequired {
			b.WriteString("       archive each artifact before deleting it; one that cannot be archived is kept\n")
		} else {
			b.WriteString("       archive each artifact before deleting it; one that cannot be archived (e.g. expired) is deleted anyway\n")
		}
	}
}

func newestWords(n int) string {
	if n == 1 {
		return "newest artifact"
	}
	return strconv.Itoa(n) + " newest artifacts"
}

func groupWords(groupBy []GroupKey) string {
	fields := []string{"repository"}
	for _, g := range groupBy {
		fields = append(fields, string(g))
	}
	switch len(fields) {
	case 1:
		return "repository"
	case 2:
		return "repository and " + fields[1]
	}
	return "combination of " + strings.Join(fields[:len(fields)-1], ", ") + " and " + fields[len(fields)-1]
}

// conditionWords spells out a rule's conditions in the order written.
func conditionWords(r *Rule) []string {
	var out []string
	for _, c := range r.order {
		switch c {
		case condRepositories:
			out = append(out, "repository "+patternWords(r.Repositories))
		case condName:
			out = append(out, "name "+patternWords(r.ArtifactName))
		case condBranch:
			out = append(out, "branch "+patternWords(r.Branch))
		case condOlderThan:
			out = append(out, fmt.Sprintf("age > %s (%s)", r.OlderThan.Text, durationWords(r.OlderThan.Value)))
		case condNewerThan:
			out = append(out, fmt.Sprintf("age < %s (%s)", r.NewerThan.Text, durationWords(r.NewerThan.Value)))
		case condSizeGreaterThan:
			out = append(out, fmt.Sprintf("size > %s (%s)", r.SizeGreaterThan.Text, bytesWords(r.SizeGreaterThan.Bytes, r.SizeGreaterThan.fraction)))
		case condSizeLessThan:
			out = append(out, fmt.Sprintf("size < %s (%s)", r.SizeLessThan.Text, bytesWords(r.SizeLessThan.Bytes, r.SizeLessThan.fraction)))
		case condExpired:
			out = append(out, "expired is "+strconv.FormatBool(*r.Expired))
		case condBranchDeleted:
			out = append(out, "branch deleted from the repository (not for forks or artifacts without a branch)")
		}
	}
	return out
}

// patternWords reads a pattern list out: `in ["a", "b"]`,
// `not in ["main", "release/**"]`, `in ["release/**"] but not in ["release/old-*"]`.
func patternWords(p *Patterns) string {
	list := func(entries []string, trim bool) string {
		out := make([]string, len(entries))
		for i, s := range entries {
			if trim {
				s = s[1:]
			}
			out[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(out, ", ") + "]"
	}
	switch {
	case len(p.negSrc) == 0:
		return "in " + list(p.posSrc, false)
	case len(p.posSrc) == 0:
		return "not in " + list(p.negSrc, true)
	}
	return "in " + list(p.posSrc, false) + " but not in " + list(p.negSrc, true)
}
