package config

import "fmt"

// Storage governs the storage report, the savings figures and the storage
// metrics.
type Storage struct {
	// PricePerGBMonth is nil when unset: GitHub's prices vary by plan and
	// change, so retentiond never assumes one and reports money only when
	// told the price.
	PricePerGBMonth *float64 `env:"STORAGE_PRICE_PER_GB_MONTH, noinit" help:"What your plan charges for a GB-month of Actions storage beyond the included amount (a number, e.g. 0.07 for 0.07 USD); set it to see savings in money too. Unset: GB-hours only."`
	MetricsTop      int      `env:"STORAGE_METRICS_TOP, default=10" help:"serve's retentiond_storage_live_bytes has a series for each of this many repositories with the most storage, and one labelled other for the rest."`
}

func (s *Storage) validate(bad func(v, msg string)) {
	if p := s.PricePerGBMonth; p != nil && *p < 0 {
		bad("STORAGE_PRICE_PER_GB_MONTH", fmt.Sprintf("%v is negative; accepted: a price of 0 or more", *p))
	}
	if s.MetricsTop < 1 || s.MetricsTop > 1000 {
		bad("STORAGE_METRICS_TOP", fmt.Sprintf("%d is out of range; accepted: 1 to 1000 (each repository is a series)", s.MetricsTop))
	}
}
