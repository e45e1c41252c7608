//go:build !unix

package pglocal

import "syscall"

// runAs is who initdb and pg_ctl run as; elsewhere than on Unix, the
// current user always.
type runAs = struct{}

func sysProcAttr(runAs) *syscall.SysProcAttr { return nil }

func serverCredential() (runAs, error) { return runAs{}, nil }

func handOver(string, runAs) error { return nil }
