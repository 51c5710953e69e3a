package target

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestWalkTrust: links in directories only root can change are followed
// (absolute, relative, with ".."); from the first directory a real user
// owns, or that a group or others may write, a link refuses the path with
// the link, its owner and that directory; the caller's own links are its
// to follow.
func TestWalkTrust(t *testing.T) {
	testenv.Root(t)
	dir := testenv.Dir(t)
	u := testenv.NewUser(t, "gmt-sf-walk", dir)
	srv := filepath.Join(dir, "srv")
	os.MkdirAll(filepath.Join(srv, "go", "build"), 0o755)
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.Symlink(filepath.Join(srv, "go"), filepath.Join(dir, "etc", "abs"))
	os.Symlink("../srv/go", filepath.Join(dir, "etc", "rel"))
	os.Symlink("loop", filepath.Join(dir, "etc", "loop"))
	shared := filepath.Join(dir, "shared") // root's, but the group may write
	os.Mkdir(shared, 0o775)
	os.Chmod(shared, 0o775)
	os.Symlink(filepath.Join(srv, "go"), filepath.Join(shared, "go"))
	u.Sh(t, "mkdir -p own/go/build && ln -s own/go link && ln -s "+srv+" out")

	for _, tc := range []struct {
		path, want string
		exists     bool
		euid       uint32
	}{
		{filepath.Join(dir, "etc", "abs", "build"), filepath.Join(srv, "go", "build"), true, 0},
		{filepath.Join(dir, "etc", "rel", "build"), filepath.Join(srv, "go", "build"), true, 0},
		{filepath.Join(dir, "etc", "rel", "new", "cache"), filepath.Join(srv, "go", "new", "cache"), false, 0},
		{filepath.Join(u.Home, "own", "go", "build"), filepath.Join(u.Home, "own", "go", "build"), true, 0},
		{filepath.Join(u.Home, "link", "build"), filepath.Join(u.Home, "own", "go", "build"), true, uint32(u.UID)},
	} {
		got, exists, err := walk(tc.path, tc.euid)
		if err != nil || got != tc.want || exists != tc.exists {
			t.Errorf("walk(%s) as %d = %q, %v, %v; want %q, %v", tc.path, tc.euid, got, exists, err, tc.want, tc.exists)
		}
	}
	for _, tc := range []struct{ path, link, dir string }{
		{filepath.Join(u.Home, "link", "build"), filepath.Join(u.Home, "link"), u.Home},
		{filepath.Join(u.Home, "out", "go", "build"), filepath.Join(u.Home, "out"), u.Home},
		{filepath.Join(shared, "go", "build"), filepath.Join(shared, "go"), shared},
	} {
		_, _, err := walk(tc.path, 0)
		var le *LinkError
		if !errors.As(err, &le) || le.Link != tc.link || le.Dir != tc.dir {
			t.Errorf("walk(%s): %v; want a LinkError for %s below %s", tc.path, err, tc.link, tc.dir)
		}
	}
	var le *LinkError
	if _, _, err := walk(filepath.Join(u.Home, "link", "build"), 0); errors.As(err, &le) &&
		(le.LinkUID != uint32(u.UID) || le.DirUID != uint32(u.UID)) {
		t.Errorf("owners: link %d, dir %d; want %d", le.LinkUID, le.DirUID, u.UID)
	}
	if _, _, err := walk(filepath.Join(dir, "etc", "loop"), 0); !errors.Is(err, unix.ELOOP) {
		t.Errorf("a link loop: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "etc", "file"), nil, 0o644)
	if _, _, err := walk(filepath.Join(dir, "etc", "file", "build"), 0); !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("a file on the way: %v", err)
	}
}

// TestRootSwappedAfterResolve: a path resolved while it was a directory
// and swapped for a link afterwards (as the daemon holds paths from its
// start) is not opened: the resolved path has no link left to follow.
func TestRootSwappedAfterResolve(t *testing.T) {
	testenv.Root(t)
	dir := testenv.Dir(t)
	u := testenv.NewUser(t, "gmt-sf-swap", dir)
	secret := filepath.Join(dir, "secret")
	os.Mkdir(secret, 0o700)
	u.Sh(t, "mkdir -p .cache/go-build")
	real, exists, err := walk(filepath.Join(u.Home, ".cache", "go-build"), 0)
	if err != nil || !exists {
		t.Fatal(real, err)
	}
	for _, line := range []string{"mv .cache/go-build gone && ln -s " + secret + " .cache/go-build", "mv .cache cache.old && ln -s " + dir + " .cache"} {
		u.Sh(t, line)
		if r, err := safefs.OpenRoot(real); err == nil {
			r.Close()
			t.Errorf("after %q: OpenRoot(%s) followed the link", line, real)
		}
	}
}
