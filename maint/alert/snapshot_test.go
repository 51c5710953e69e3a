package alert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestSnapshotNoFollow: a snapshot describes the inode named, never what a
// link points to, and refuses a path with a link in it (inside a cache a
// user may have swapped a directory for one).
func TestSnapshotNoFollow(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	s, err := TakeSnapshot(filepath.Join(dir, "link"))
	if err != nil || s.Type != "symlink" || !strings.HasPrefix(s.Mode, "l") {
		t.Fatalf("snapshot of a link: %+v, %v; want the link itself", s, err)
	}
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(dir, "dirlink")); err != nil {
		t.Fatal(err)
	}
	if s, err := TakeSnapshot(filepath.Join(dir, "dirlink", "secret")); err == nil {
		t.Fatalf("snapshot through a link: %+v; want an error", s)
	}
}

// TestSnapshotACL: an inode with an ACL beyond its mode shows it, as
// getfacl does, and ls's "+".
func TestSnapshotACL(t *testing.T) {
	setfacl := testenv.Command(t, "setfacl")
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, nil, "", setfacl, "-m", "g:0:rw", f)
	s, err := TakeSnapshot(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.ACL, "group:root:rw-") || !strings.HasSuffix(s.Mode, "+") || s.Mode[0] != '-' {
		t.Errorf("mode %q ACL %q; want -rw-rw----+ with group:root:rw-", s.Mode, s.ACL)
	}
}
