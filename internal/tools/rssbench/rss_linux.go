package main

import (
	"errors"
	"os"
	"syscall"
)

// peakRSS is the peak resident memory of the exited process, in bytes.
func peakRSS(ps *os.ProcessState) (int64, error) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, errors.New("no rusage for the child")
	}
	return ru.Maxrss * 1024, nil // ru_maxrss is in kilobytes on Linux
}
