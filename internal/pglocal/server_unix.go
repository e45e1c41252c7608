//go:build unix

package pglocal

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// runAs is who initdb and pg_ctl run as: nil for the current user.
type runAs = *syscall.Credential

// sysProcAttr runs a PostgreSQL program as cred, in its own process group,
// so a Ctrl-C meant for the tests does not also shut the server down under
// them.
func sysProcAttr(cred runAs) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: cred}
}

// handOver gives dir to cred's user, when there is one.
func handOver(dir string, cred runAs) error {
	if cred == nil {
		return nil
	}
	return os.Chown(dir, int(cred.Uid), int(cred.Gid))
}

// serverCredential returns the credential to run initdb and pg_ctl with:
// none normally; the postgres user when running as root, because initdb
// refuses to run as root.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pglocal: running as root, PostgreSQL's initdb must run as another user, but there is no postgres user (%w); create one or run as a normal user", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pglocal: postgres user has uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pglocal: postgres user has gid %q: %w", u.Gid, err)
	}
	// An empty Groups drops root's supplementary groups.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}
