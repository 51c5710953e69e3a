package rundir

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestUntrustedDirectory: a runtime or lock directory that others can
// write, that another user owns (a name taken first in /tmp), or that is
// a link, is refused, and its fix is named.
func TestUntrustedDirectory(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil { // whatever the umask
		t.Fatal(err)
	}
	refused(t, "a world-writable directory", open, "no one else can write: remove it, or set XDG_RUNTIME_DIR")

	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	refused(t, "a link to a directory", link, link+": not a directory")

	testenv.Root(t)
	uid, gid := testenv.Nobody(t)
	theirs := filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(theirs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, uid, gid); err != nil {
		t.Fatal(err)
	}
	refused(t, "a directory owned by another user", theirs, "owned by uid "+strconv.Itoa(uid))
}

// refused checks that both Make and OpenLocks refuse dir with want.
func refused(t *testing.T, what, dir, want string) {
	t.Helper()
	if err := Make(dir); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Make, %s: %v; want %q", what, err, want)
	}
	if fd, err := OpenLocks(dir); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("OpenLocks, %s: %v; want %q", what, err, want)
		if err == nil {
			unix.Close(fd)
		}
	}
}

// TestModes: the runtime directory is for the socket, which others
// reach (0755); the lock directory in it is ours alone (0700).
func TestModes(t *testing.T) {
	run := filepath.Join(t.TempDir(), "gomaint")
	if err := Make(run); err != nil {
		t.Fatal(err)
	}
	locks := filepath.Join(t.TempDir(), "gomaint", "locks")
	fd, err := OpenLocks(locks)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	for dir, want := range map[string]os.FileMode{run: 0o755, filepath.Dir(locks): 0o755, locks: 0o700} {
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, mode %v; want %v", dir, err, fi.Mode(), want)
		}
	}
}

// TestExistingDirectoryMadePrivate: a lock directory of ours that others
// may enter (made by an older gomaint, or by hand) is made 0700.
func TestExistingDirectoryMadePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := OpenLocks(dir)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("lock directory after OpenLocks: %v, mode %v; want 0700", err, fi.Mode())
	}
}
