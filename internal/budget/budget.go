// Package budget decides, before a run scans, which repositories the
// rate-limit budget can afford. It is pure: it takes each repository's
// estimated cost and each budget's remaining requests and returns a plan.
//
// The arithmetic: a run needs, per repository, one request when the
// repository is likely unchanged (an incremental scan: page 1, free when it
// answers 304), ceil(live artifacts / 100) when a full scan is due, plus one
// request per DELETE. It may spend a budget's remaining requests down to the
// reserve (RATE_LIMIT_RESERVE), which is left for everything else that
// shares the token. Repositories it cannot afford are skipped: not scanned,
// not failed, and given no deletions, least recently completed ones first in
// line.
package budget

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/retentiond/retentiond/internal/artifact"
)

// Reserve is RATE_LIMIT_RESERVE: how much of a budget a run leaves unspent,
// as a number of requests or as a percentage of the budget's limit.
type Reserve struct {
	requests int
	percent  float64
	relative bool
}

// DefaultReserve is 10% of the limit.
var DefaultReserve = Reserve{percent: 10, relative: true}

// Requests returns a reserve of n requests.
func Requests(n int) Reserve { return Reserve{requests: n} }

// Percent returns a reserve of p% of the limit.
func Percent(p float64) Reserve { return Reserve{percent: p, relative: true} }

// ParseReserve reads a reserve: a whole number of requests ("500") or a
// percentage of the limit ("10%", "12.5%"), from 0 to 100.
func ParseReserve(s string) (Reserve, error) {
	s = strings.TrimSpace(s)
	if num, ok := strings.CutSuffix(s, "%"); ok {
		p, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(p) || math.IsInf(p, 0) {
			return Reserve{}, fmt.Errorf("%q is not a percentage", s)
		}
		if p < 0 || p > 100 {
			return Reserve{}, fmt.Errorf("%q is not between 0%% and 100%%", s)
		}
		return Percent(p), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return Reserve{}, fmt.Errorf("%q is neither a number of requests nor a percentage", s)
	}
	if n < 0 {
		return Reserve{}, errors.New("a reserve must not be negative")
	}
	return Requests(n), nil
}

// String returns the reserve as ParseReserve reads it.
func (r Reserve) String() string {
	if r.relative {
		return strconv.FormatFloat(r.percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(r.requests)
}

// Of returns the reserve in requests for a budget of limit: a percentage is
// rounded up, so a reserve is never smaller than asked.
func (r Reserve) Of(limit int) int {
	if !r.relative {
		return r.requests
	}
	return int(math.Ceil(float64(limit) * r.percent / 100))
}

// PerPage is how many artifacts one listing request returns.
const PerPage = 100

// FullScanCost is the requests a full listing of live artifacts costs:
// ceil(live/100), and one for an empty repository.
func FullScanCost(live int) int { return max(1, (live+PerPage-1)/PerPage) }

// Repo is one repository as the budget sees it.
type Repo struct {
	Repository artifact.Repository
	// Budget names the budget its requests spend (github.Budget.Name).
	Budget string
	// Cost is its estimated requests this run.
	Cost int
	// LastComplete is when a scan of it last completed; zero for never,
	// which puts it first in line.
	LastComplete time.Time
}

// Allowance is one budget as it stands before the run.
type Allowance struct {
	Limit, Remaining int
	// Reserve is the requests to leave unspent (Reserve.Of(Limit)).
	Reserve int
	// Deletions is the requests set aside for this run's DELETEs.
	Deletions int
}

// Line is what the plan makes of one budget.
type Line struct {
	Name string
	Allowance
	// Estimated is the requests the run needs for all its repositories and
	// deletions; Planned what it will spend for those it scans.
	Estimated, Planned int
	Scanned, Skipped   int
}

// Plan is which repositories to scan and which to skip.
type Plan struct {
	// Scan keeps the order the repositories were given in.
	Scan    []artifact.Repository
	Skipped []artifact.Repository
	// Estimated is the requests all the repositories would need, deletions
	// included.
	Estimated int
	// Lines has one entry per budget, by name.
	Lines []Line
}

// Select plans a run: per budget, repositories least recently completed
// first take what they cost while the remaining requests stay at or above
// the reserve plus the deletions; those that do not fit are skipped, and
// cheaper ones after them may still fit. A repository whose budget is not in
// allowances (it could not be read) is scanned: without a budget to go by,
// the scan's own rate-limit handling decides.
func Select(repos []Repo, allowances map[string]Allowance) Plan {
	byBudget := map[string][]int{}
	for i, r := range repos {
		byBudget[r.Budget] = append(byBudget[r.Budget], i)
	}
	skip := make([]bool, len(repos))
	var p Plan
	names := make([]string, 0, len(byBudget))
	for name := range byBudget {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		idx := byBudget[name]
		a, known := allowances[name]
		line := Line{Name: name, Allowance: a, Estimated: a.Deletions}
		for _, i := range idx {
			line.Estimated += repos[i].Cost
		}
		p.Estimated += line.Estimated
		if !known {
			line.Scanned = len(idx)
			p.Lines = append(p.Lines, line)
			continue
		}
		slices.SortStableFunc(idx, func(x, y int) int {
			return cmp.Or(repos[x].LastComplete.Compare(repos[y].LastComplete),
				cmp.Compare(repos[x].Repository, repos[y].Repository))
		})
		available := a.Remaining - a.Reserve - a.Deletions
		for _, i := range idx {
			if c := repos[i].Cost; c <= available {
				available -= c
				line.Planned += c
				line.Scanned++
				continue
			}
			skip[i] = true
			line.Skipped++
		}
		line.Planned += a.Deletions
		p.Lines = append(p.Lines, line)
	}
	for i, r := range repos {
		if skip[i] {
			p.Skipped = append(p.Skipped, r.Repository)
		} else {
			p.Scan = append(p.Scan, r.Repository)
		}
	}
	return p
}

// Equal reports whether r and o are the same reserve (for go-cmp).
func (r Reserve) Equal(o Reserve) bool { return r == o }
