package safefs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteAtomicFollowsNoLink: in a directory others can write, a link
// put at the file's name is replaced, not written through, and a link
// given as the directory is refused.
func TestWriteAtomicFollowsNoLink(t *testing.T) {
	dir := t.TempDir()
	outside, unchanged := outsideDir(t)
	target := filepath.Join(outside, "precious")
	must(t, os.Symlink(target, filepath.Join(dir, "gomaint.prom")))
	must(t, WriteAtomic(dir, "gomaint.prom", []byte("up 1\n"), 0o644))
	unchanged()
	fi, err := os.Lstat(filepath.Join(dir, "gomaint.prom"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Fatalf("gomaint.prom: %v %v; want a regular file, mode 0644", fi, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "gomaint.prom")); string(b) != "up 1\n" {
		t.Errorf("gomaint.prom holds %q", b)
	}

	linked := filepath.Join(t.TempDir(), "metrics")
	must(t, os.Symlink(outside, linked))
	if err := WriteAtomic(linked, "precious", []byte("x"), 0o644); err == nil {
		t.Error("WriteAtomic wrote through a directory that is a link")
	}
	unchanged()
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}
