package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/scan"
)

// TestOpenRootRefusesLinkedAncestors: a cache path is resolved before it
// is opened, so a symbolic link anywhere in it now means someone swapped
// a directory for a link in between; root must not follow it.
func TestOpenRootRefusesLinkedAncestors(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "real", "cache"), 0o755)
	os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "swapped"))
	os.Symlink(filepath.Join(dir, "real", "cache"), filepath.Join(dir, "cachelink"))
	r, err := OpenRoot(filepath.Join(dir, "real", "cache"))
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	for _, p := range []string{filepath.Join(dir, "swapped", "cache"), filepath.Join(dir, "cachelink")} {
		if r, err := OpenRoot(p); err == nil {
			r.Close()
			t.Errorf("OpenRoot(%s) followed a link", p)
		}
		if fd, _, err := scan.OpenRoot(p); err == nil {
			unix.Close(fd)
			t.Errorf("scan.OpenRoot(%s) followed a link", p)
		}
	}
}

// TestTouch: an entry's mtime is set, its atime left; links and hard-linked
// files are refused.
func TestTouch(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-48 * time.Hour)
	for _, n := range []string{"entry", "linked"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
		os.Chtimes(filepath.Join(dir, n), old, old)
	}
	os.Link(filepath.Join(dir, "linked"), filepath.Join(dir, "linked2"))
	os.Symlink("entry", filepath.Join(dir, "symlink"))
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	now := time.Now()
	if err := r.Touch(r.FD, "entry", now); err != nil {
		t.Fatal(err)
	}
	st, _ := r.Stat(r.FD, "entry")
	if st.Mtime.Sec != now.Unix() || st.Atime.Sec != old.Unix() {
		t.Errorf("mtime %d atime %d; want %d and %d", st.Mtime.Sec, st.Atime.Sec, now.Unix(), old.Unix())
	}
	if err := r.Touch(r.FD, "linked", now); !errors.Is(err, ErrHardlinked) {
		t.Errorf("hard-linked file: %v", err)
	}
	if err := r.Touch(r.FD, "symlink", now); !errors.Is(err, ErrNotFileOrDir) {
		t.Errorf("symbolic link: %v", err)
	}
	if st, _ := r.Stat(r.FD, "linked"); st.Mtime.Sec != old.Unix() {
		t.Errorf("the hard-linked file was changed")
	}
}
