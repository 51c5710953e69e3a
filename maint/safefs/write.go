package safefs

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/scan"
)

// WriteAtomic replaces dir/name with data, mode perm whatever the umask.
// data goes to a new temporary file in dir named "."+name+".<random>",
// fsynced and renamed over name, and then dir is fsynced: a reader sees
// the old file or the new one, never a mix, and a crash leaves a complete
// file (or none yet).
//
// Every step goes through one fd of dir, opened without following a
// link: if others can write dir (an admin's choice of metrics_dir), they
// cannot redirect root's writes. The temporary file is made with O_EXCL,
// and renameat replaces whatever stands at name, a link included, never
// what it points to. Temporary files of name older than an hour, which
// only a crashed writer leaves, are removed.
func WriteAtomic(dir, name string, data []byte, perm uint32) error {
	return writeAtomic(dir, name, data, perm, -1)
}

// WriteAtomicGroup is WriteAtomic for a file of group gid: the temporary
// file has its group before it has perm, so that no other group can ever
// read it.
func WriteAtomicGroup(dir, name string, data []byte, perm uint32, gid int) error {
	return writeAtomic(dir, name, data, perm, gid)
}

func writeAtomic(dir, name string, data []byte, perm uint32, gid int) (err error) {
	dfd, err := scan.OpenDir(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	prefix := "." + name + "."
	tmp := prefix + strconv.FormatUint(rand.Uint64(), 36)
	fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create a temporary file: %w", err)
	}
	defer func() {
		if fd >= 0 {
			unix.Close(fd)
		}
		if err != nil {
			unix.Unlinkat(dfd, tmp, 0)
		}
	}()
	if gid >= 0 {
		// In a setgid directory of that group the file has it already, and
		// a sandbox that denies chown (SystemCallFilter=~@privileged, as
		// gomaint-alert.service has) must not stop the write.
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return fmt.Errorf("stat the temporary file: %w", err)
		}
		if int(st.Gid) != gid {
			if err := unix.Fchown(fd, -1, gid); err != nil {
				return fmt.Errorf("chgrp %d: %w", gid, err)
			}
		}
	}
	if err := unix.Fchmod(fd, perm); err != nil {
		return err
	}
	for rest := data; len(rest) > 0; {
		n, err := unix.Write(fd, rest)
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		rest = rest[n:]
	}
	// Data on disk before the rename makes it visible, or a crash could
	// leave an empty file behind a completed rename.
	if err := unix.Fsync(fd); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	err, fd = unix.Close(fd), -1
	if err != nil {
		return err
	}
	if err := unix.Renameat(dfd, tmp, dfd, name); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	sweepTemps(dfd, prefix)
	// The rename is durable once the directory is synced; the file is
	// complete already, so a failure here is not worth an error.
	unix.Fsync(dfd)
	return nil
}

// sweepTemps removes the regular files of dfd (not yet read) named
// prefix* older than an hour: a younger one may be a concurrent writer's.
func sweepTemps(dfd int, prefix string) {
	old := time.Now().Add(-time.Hour).Unix()
	var stale []string
	scan.EachEntry(dfd, make([]byte, 8<<10), func(n []byte, _ *byte, st *unix.Statx_t, err error) error {
		if err == nil && bytes.HasPrefix(n, []byte(prefix)) && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mtime.Sec < old {
			stale = append(stale, string(n))
		}
		return nil
	})
	for _, n := range stale {
		unix.Unlinkat(dfd, n, 0)
	}
}
