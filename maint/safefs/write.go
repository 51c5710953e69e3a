package safefs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
	_, err := writeFiles(dir, true, []File{{Name: name, Data: data, Perm: perm, Gid: -1}})
	return err
}

// WriteAtomicGroup is WriteAtomic for a file of group gid: the temporary
// file has its group before it has perm, so that no other group can ever
// read it.
func WriteAtomicGroup(dir, name string, data []byte, perm uint32, gid int) error {
	_, err := writeFiles(dir, true, []File{{Name: name, Data: data, Perm: perm, Gid: gid}})
	return err
}

// File is one file of a WriteChanged call: its name in the directory, its
// content, its mode, and its group (-1: the one it gets).
type File struct {
	Name string
	Data []byte
	Perm uint32
	Gid  int
}

// WriteChanged replaces the files of dir as WriteAtomic does, except that
// a file that already holds exactly Data, with Perm, this process's owner
// and Gid, is left alone (no write, no fsync: flash storage wears with
// every write), and that dir is fsynced once for all the files renamed.
// It returns the names it wrote.
func WriteChanged(dir string, files ...File) (written []string, err error) {
	return writeFiles(dir, false, files)
}

func writeFiles(dir string, always bool, files []File) (written []string, err error) {
	dfd, err := scan.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	var errs []error
	for _, f := range files {
		if !always && holds(dfd, f) {
			continue
		}
		if err := writeOne(dfd, dir, f); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Name, err))
			continue
		}
		written = append(written, f.Name)
	}
	if len(written) > 0 {
		// The renames are durable once the directory is synced; the files
		// are complete already, so a failure here is not worth an error.
		unix.Fsync(dfd)
		count(dir+"/", 0, 0)
	}
	if len(errs) == 1 && len(files) == 1 {
		return written, errors.Unwrap(errs[0]) // WriteAtomic's callers name the file
	}
	return written, errors.Join(errs...)
}

// writeOne puts f in place: a temporary file written, fsynced, renamed.
func writeOne(dfd int, dir string, f File) (err error) {
	prefix := "." + f.Name + "."
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
	if f.Gid >= 0 {
		// In a setgid directory of that group the file has it already, and
		// a sandbox that denies chown (SystemCallFilter=~@privileged, as
		// gomaint-alert.service has) must not stop the write.
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return fmt.Errorf("stat the temporary file: %w", err)
		}
		if int(st.Gid) != f.Gid {
			if err := unix.Fchown(fd, -1, f.Gid); err != nil {
				return fmt.Errorf("chgrp %d: %w", f.Gid, err)
			}
		}
	}
	if err := unix.Fchmod(fd, f.Perm); err != nil {
		return err
	}
	for rest := f.Data; len(rest) > 0; {
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
	if err := unix.Renameat(dfd, tmp, dfd, f.Name); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	count(dir+"/"+f.Name, 1, int64(len(f.Data)))
	sweepTemps(dfd, prefix)
	return nil
}

// holds reports whether dfd's f.Name is already a regular file of ours
// with f's content, mode and group, read without following a link.
func holds(dfd int, f File) bool {
	fd, err := unix.Openat(dfd, f.Name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o7777 != f.Perm ||
		int(st.Uid) != unix.Geteuid() || f.Gid >= 0 && int(st.Gid) != f.Gid || st.Size != int64(len(f.Data)) {
		return false
	}
	have := make([]byte, len(f.Data)+1) // one more: a file that grew since is not the same
	n, err := io.ReadFull(fdReader(fd), have)
	return (err == nil || errors.Is(err, io.ErrUnexpectedEOF)) && bytes.Equal(have[:n], f.Data)
}

// fdReader reads an fd with read(2).
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	n, err := unix.Read(int(r), p)
	if n == 0 && err == nil && len(p) > 0 {
		return 0, io.EOF
	}
	return max(n, 0), err
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
