// Package lock makes sure that a person, the timer and the daemon never
// work on one target at once (DESIGN.md, safety 8): one flock per target,
// in a runtime directory outside the cache tree.
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
)

// Dir is where the locks of a scope live: /run/gomaint for the system,
// $XDG_RUNTIME_DIR/gomaint for a user.
func Dir(system bool, getenv func(string) string) string {
	if system {
		return "/run/gomaint"
	}
	if d := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		return filepath.Join(d, "gomaint")
	}
	return filepath.Join(os.TempDir(), "gomaint-"+strconv.Itoa(os.Getuid()))
}

// BusyError says another process holds a target's lock.
type BusyError struct {
	Target string
	PID    string
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("target %s is being cleaned by another gomaint (pid %s); try again when it finishes", e.Target, e.PID)
}

// Acquire takes the lock of target in dir, waiting up to wait for a
// holder to finish. The returned function releases it.
func Acquire(dir, target string, wait time.Duration) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	dfd, err := openTrusted(dir)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, target+".lock", unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", filepath.Join(dir, target+".lock"), err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			unix.Close(fd)
			return nil, fmt.Errorf("lock %s: %w", target, err)
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 32)
			n, _ := unix.Pread(fd, buf, 0)
			unix.Close(fd)
			return nil, &BusyError{Target: target, PID: strings.TrimSpace(string(buf[:max(n, 0)]))}
		}
		time.Sleep(50 * time.Millisecond)
	}
	unix.Ftruncate(fd, 0)
	unix.Pwrite(fd, []byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { unix.Close(fd) }, nil
}

// Trusted checks that dir, the directory of the locks and of the daemon's
// control socket, is one no other user can write; see openTrusted.
func Trusted(dir string) error {
	fd, err := openTrusted(dir)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

// openTrusted opens dir, refusing one that someone else could write: they
// could hold our locks, or remove them and let two runs work on one cache
// at once, or swap the control socket for a link that the daemon's chmod
// would follow. It matters for the fallback in /tmp, a name anyone can
// take first; /run/gomaint and $XDG_RUNTIME_DIR/gomaint pass.
func openTrusted(dir string) (int, error) {
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("lock directory %s: %w", dir, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(dfd, &st); err != nil {
		unix.Close(dfd)
		return -1, fmt.Errorf("lock directory %s: %w", dir, err)
	}
	if euid := os.Geteuid(); (int(st.Uid) != euid && st.Uid != 0) || st.Mode&0o022 != 0 {
		unix.Close(dfd)
		return -1, fmt.Errorf("lock directory %s is owned by uid %d with mode %04o; gomaint (uid %d) uses only a directory "+
			"that it or root owns and no one else can write: remove it, or set XDG_RUNTIME_DIR", dir, st.Uid, st.Mode&0o7777, euid)
	}
	return dfd, nil
}
