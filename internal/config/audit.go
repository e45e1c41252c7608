package config

import "time"

// Audit governs the audit log's retention.
type Audit struct {
	// Retention has a default rather than "keep forever": at org scale an
	// unbounded log is the one table that grows without limit.
	Retention time.Duration `env:"AUDIT_RETENTION, default=400d" help:"How long audit_log partitions are kept (a duration: 90d, 400d, 2w); whole months older than this are dropped by serve before each run and by 'audit prune'. Pending intents are never dropped."`
}

// minAuditRetention keeps a typo (400s for 400d) from emptying the log: a
// month is the smallest unit pruning drops anyway.
const minAuditRetention = 31 * 24 * time.Hour

func (a *Audit) validate(bad func(v, msg string)) {
	if a.Retention < minAuditRetention {
		bad("AUDIT_RETENTION", "must be at least 31d (a month is the smallest unit pruning drops)")
	}
}
