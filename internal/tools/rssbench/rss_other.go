//go:build !linux

package main

import (
	"errors"
	"os"
)

// peakRSS is measured on Linux only, where getrusage reports ru_maxrss in
// kilobytes (macOS reports bytes, Windows has no rusage).
func peakRSS(*os.ProcessState) (int64, error) {
	return 0, errors.New("rssbench measures peak RSS on Linux only")
}
