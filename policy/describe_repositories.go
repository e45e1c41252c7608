package policy

import (
	"fmt"
	"strings"
)

// describeRepositories writes the repositories section: plain entries as
// before, and for a list with patterns what each entry selects or
// excludes, which owners are listed at each run and what that costs.
func describeRepositories(b *strings.Builder, p *Policy) {
	s := p.Selector
	if !s.HasPatterns() && !hasExclusions(s) {
		fmt.Fprintf(b, "\nrepositories (%d):\n", len(p.Repositories))
		for _, r := range p.Repositories {
			fmt.Fprintf(b, "  %s\n", r)
		}
		return
	}
	entries := s.Entries()
	if len(entries) == 1 {
		b.WriteString("\nrepositories (1 entry):\n")
	} else {
		fmt.Fprintf(b, "\nrepositories (%d entries):\n", len(entries))
	}
	for _, e := range entries {
		switch e.Kind {
		case SelectRepository:
			if s.Match(e.Owner + "/" + e.Name) {
				fmt.Fprintf(b, "  %s: this repository\n", e.Text)
			} else {
				fmt.Fprintf(b, "  %s: this repository, but an exclusion below removes it\n", e.Text)
			}
		case SelectPattern:
			if e.Name == "*" || e.Name == "**" {
				fmt.Fprintf(b, "  %s: every repository of %s\n", e.Text, e.Owner)
			} else {
				fmt.Fprintf(b, "  %s: the repositories of %s whose name matches %s\n", e.Text, e.Owner, e.Name)
			}
		case SelectExclude:
			fmt.Fprintf(b, "  %s: excludes the repositories of %s whose name matches %s, listed ones too\n", e.Text, e.Owner, e.Name)
		}
	}
	owners := s.PatternOwners()
	fmt.Fprintf(b, "  patterns are resolved at the start of every run and scan by listing the repositories of %s\n", strings.Join(owners, ", "))
	b.WriteString("    (GET /orgs/{owner}/repos, or /users/{owner}/repos for a user: one request per 100 repositories)\n")
	if p.IncludeArchived {
		b.WriteString("  archived repositories (include_archived: true) are scanned and reported, never deleted from\n")
	} else {
		b.WriteString("  archived repositories are skipped (GitHub refuses to delete their artifacts; include_archived: true scans them)\n")
	}
}

func hasExclusions(s *Selector) bool {
	for _, e := range s.Entries() {
		if e.Kind == SelectExclude {
			return true
		}
	}
	return false
}
