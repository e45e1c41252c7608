// Package savings is the one place retentiond turns artifact sizes and times
// into what GitHub bills: GB-hours, GB-months and, given a price, money.
//
// GitHub bills artifact storage by hourly usage: every hour an artifact is
// stored adds its size × 1 hour to the month's GB-hours, and the month's
// GB-hours divided by the hours of that month are the GB-months it charges
// for (GitHub's own example: 6,768 GB-hours in March / 744 hours = 9.097
// GB-months). Usage already accrued stays billed, so deleting an artifact
// saves only the hours it had left until its expires_at; an artifact that
// has expired is not stored any more and its deletion saves nothing.
//
// A GB is 10^9 bytes, as GitHub's billing pages write "GB" and as every size
// retentiond prints (internal/report.Bytes). Months are calendar months in
// UTC; an account's billing cycle may start on another day, which moves
// hours between two neighbouring months and changes no total.
//
// The package is pure: it takes times and sizes and returns numbers.
package savings

import "time"

// BytesPerGB is how many bytes GitHub's billing counts as a GB.
const BytesPerGB = 1e9

// Usage is an amount of storage over time.
type Usage struct {
	// GBHours is size in GB × hours.
	GBHours float64
	// GBMonths is the same usage in GB-months: each hour counted against
	// the length of the calendar month it falls in, as GitHub bills.
	GBMonths float64
}

// Add returns u + v.
func (u Usage) Add(v Usage) Usage {
	return Usage{GBHours: u.GBHours + v.GBHours, GBMonths: u.GBMonths + v.GBMonths}
}

// Cost is the usage's price at pricePerGBMonth (in whatever currency the
// price is given).
func (u Usage) Cost(pricePerGBMonth float64) float64 { return u.GBMonths * pricePerGBMonth }

// Stored is the usage of size bytes stored from from until to; nothing when
// to is not after from or size is not positive.
func Stored(size int64, from, to time.Time) Usage {
	if size <= 0 || !to.After(from) {
		return Usage{}
	}
	gb := float64(size) / BytesPerGB
	var u Usage
	from, to = from.UTC(), to.UTC()
	for from.Before(to) {
		start := MonthOf(from)
		next := start.AddDate(0, 1, 0)
		end := to
		if next.Before(end) {
			end = next
		}
		h := end.Sub(from).Hours()
		u.GBHours += gb * h
		u.GBMonths += gb * h / next.Sub(start).Hours()
		from = end
	}
	return u
}

// Deletion is one artifact a deletion (done or planned) removes.
type Deletion struct {
	SizeInBytes int64
	// At is when it was (or, in a dry-run, would be) deleted.
	At time.Time
	// ExpiresAt is the artifact's expires_at; zero when GitHub gave none.
	ExpiresAt time.Time
	// Expired is GitHub's expired flag when it was decided on.
	Expired bool
	// AlreadyGone is a DELETE answered 404: something else removed it,
	// so this deletion saved nothing.
	AlreadyGone bool
}

// Saved is the usage a deletion saves: size × the hours left from At until
// ExpiresAt. It saves nothing when the artifact had expired, was already
// gone, or has no expires_at (there is then no end to count to, and
// claiming hours nobody can check would overstate the figure).
func Saved(d Deletion) Usage {
	if d.Expired || d.AlreadyGone || d.ExpiresAt.IsZero() {
		return Usage{}
	}
	return Stored(d.SizeInBytes, d.At, d.ExpiresAt)
}

// MonthOf returns the first instant of t's calendar month in UTC.
func MonthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Accrual is size bytes stored from Created until the first of ExpiresAt
// and Gone (zero times are absent), as far as the database knows it.
type Accrual struct {
	SizeInBytes int64
	Created     time.Time
	ExpiresAt   time.Time
	Gone        time.Time
}

// Within is the usage of a within [from, to): the hours of its storage that
// fall in that window. A zero Created counts from from: the artifact was
// stored before anything retentiond can tell.
func (a Accrual) Within(from, to time.Time) Usage {
	start, end := a.Created, to
	if start.IsZero() || start.Before(from) {
		start = from
	}
	if !a.ExpiresAt.IsZero() && a.ExpiresAt.Before(end) {
		end = a.ExpiresAt
	}
	if !a.Gone.IsZero() && a.Gone.Before(end) {
		end = a.Gone
	}
	return Stored(a.SizeInBytes, start, end)
}
