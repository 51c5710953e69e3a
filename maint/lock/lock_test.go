package lock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOneHolder: a second Acquire of a held target waits, then names the
// holder; after the release it succeeds.
func TestOneHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gomaint")
	build, mod := cacheRoot(t), cacheRoot(t)
	release, err := Acquire(dir, build, "build", 0)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Acquire(dir, build, "build", 200*time.Millisecond)
	var busy *BusyError
	if !errors.As(err, &busy) || busy.PID != strconv.Itoa(os.Getpid()) || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("second Acquire: %v after %v; want a BusyError naming pid %d after the wait", err, time.Since(start), os.Getpid())
	}
	// The holder may be a clean or a fix: the message must be true of both.
	if want := "target build is being worked on by another gomaint (pid " + busy.PID + ")"; !strings.Contains(err.Error(), want) {
		t.Errorf("BusyError says %q; want %q", err, want)
	}
	other, err := Acquire(dir, mod, "mod", 0)
	if err != nil {
		t.Fatalf("another target: %v", err)
	}
	other()
	release()
	again, err := Acquire(dir, build, "build", 0)
	if err != nil {
		t.Fatalf("after the release: %v", err)
	}
	again()
}

// cacheRoot opens a new directory, a cache root to take the lock of.
func cacheRoot(t *testing.T) int {
	fd, err := unix.Open(t.TempDir(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// TestUntrustedDirectory: a lock directory that rundir refuses gets no
// lock file, and Acquire says why.
func TestUntrustedDirectory(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if _, err := Acquire(open, cacheRoot(t), "build", 0); err == nil || !strings.Contains(err.Error(), "no one else can write") {
		t.Errorf("a world-writable lock directory: %v", err)
	}
	if names, _ := filepath.Glob(filepath.Join(open, "*")); len(names) != 0 {
		t.Errorf("files made in the untrusted directory: %v", names)
	}
}

// TestFileLockBusy: a held lock of one of gomaint's files is named as the
// file it guards, not as a target.
func TestFileLockBusy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gomaint")
	release, err := AcquireFile(dir, "metrics", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = AcquireFile(dir, "metrics", 0)
	if want := "the metrics file is being worked on by another gomaint"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a busy file lock: %v; want %q", err, want)
	}
}
