// Package lock makes sure that a person, the timer and the daemon never
// work on one target at once (docs/design.md, safety 8): one flock per
// target, in the lock directory outside the cache tree, which
// maint/rundir makes and refuses when others could write it.
package lock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/rundir"
)

// Wait is how long a run waits for another run of the same cache (the
// timer's clean, a person's fix, the daemon's schedule) to finish before
// it reports the cache busy: long enough for a short run to end, short
// enough that a person at a terminal is not left waiting.
const Wait = 5 * time.Second

// BusyError says another process holds a lock: of a target (What is
// "target NAME") or of a file gomaint keeps. It does not say what that
// process does: a clean and a fix take the same lock.
type BusyError struct {
	What string
	PID  string
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%s is being worked on by another gomaint (pid %s); try again when it finishes", e.What, e.PID)
}

// Acquire takes the lock of the cache whose root is open at root (the
// target named target), waiting up to wait for a holder to finish. The
// returned function releases it.
//
// The lock is the cache's, not the name's: its file is named for the
// device and inode of the root, so two targets (or two configurations)
// naming one cache, by one path, a link or a bind mount, exclude each
// other, and one name used for two caches does not.
func Acquire(dir string, root int, target string, wait time.Duration) (func(), error) {
	if dir == "" {
		return nil, errors.New("no directory for the locks: set XDG_RUNTIME_DIR or HOME")
	}
	var st unix.Stat_t
	if err := unix.Fstat(root, &st); err != nil {
		return nil, fmt.Errorf("lock %s: the cache root: %w", target, err)
	}
	return acquire(dir, fmt.Sprintf("cache-%d-%d.lock", st.Dev, st.Ino), "target "+target, wait)
}

// AcquireFile takes the lock called name (of a file gomaint keeps, such as
// the metrics textfile, not of a cache) in dir, as Acquire does.
func AcquireFile(dir, name string, wait time.Duration) (func(), error) {
	if dir == "" {
		return nil, errors.New("no directory for the locks: set XDG_RUNTIME_DIR or HOME")
	}
	return acquire(dir, "file-"+name+".lock", "the "+name+" file", wait)
}

// acquire takes the lock file name in dir, for what ("target NAME", or a
// file of gomaint's), which errors name.
func acquire(dir, name, what string, wait time.Duration) (func(), error) {
	dfd, err := rundir.OpenLocks(dir)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	// flock needs only read access: whoever can open a lock file can hold
	// it, and so block every clean and fix. Only we may open ours.
	fd, err := unix.Openat(dfd, name, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", filepath.Join(dir, name), err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			unix.Close(fd)
			return nil, fmt.Errorf("lock of %s: %w", what, err)
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 32)
			n, _ := unix.Pread(fd, buf, 0)
			unix.Close(fd)
			return nil, &BusyError{What: what, PID: strings.TrimSpace(string(buf[:max(n, 0)]))}
		}
		time.Sleep(50 * time.Millisecond)
	}
	unix.Ftruncate(fd, 0)
	unix.Pwrite(fd, []byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { unix.Close(fd) }, nil
}
