package config

import "fmt"

// RunOnStart says whether serve runs as soon as it starts, before the first
// tick of SCHEDULE.
type RunOnStart string

// The values of RUN_ON_START.
const (
	// RunOnStartMissed runs at start when the latest run started longer ago
	// than one schedule period (a tick was missed while nothing served), so
	// a misconfiguration shows within a minute of a deploy, not an hour.
	RunOnStartMissed RunOnStart = "missed"
	// RunOnStartAlways runs at start whatever ran before.
	RunOnStartAlways RunOnStart = "always"
	// RunOnStartNever waits for the schedule's first tick.
	RunOnStartNever RunOnStart = "never"
)

func (r RunOnStart) validate(bad func(v, msg string)) {
	switch r {
	case RunOnStartMissed, RunOnStartAlways, RunOnStartNever:
	default:
		bad("RUN_ON_START", fmt.Sprintf("%q is not accepted; accepted: missed (run at start when the last run is older than one schedule period), always, never", string(r)))
	}
}
