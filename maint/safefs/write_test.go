package safefs

import (
	"os"
	"path/filepath"
	"syscall"
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

// TestWriteChangedLeavesSameContent: a file that already holds what would
// be written is not replaced (same inode, no fsync); a changed one is, and
// the directory is fsynced once for all.
func TestWriteChangedLeavesSameContent(t *testing.T) {
	dir := t.TempDir()
	ino := func(name string) uint64 {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	a, b := File{Name: "a", Data: []byte("one\n"), Perm: 0o600, Gid: -1}, File{Name: "b", Data: []byte("two\n"), Perm: 0o600, Gid: -1}
	if w, err := WriteChanged(dir, a, b); err != nil || len(w) != 2 {
		t.Fatalf("first write: %v %v", w, err)
	}
	inoA, inoB := ino("a"), ino("b")
	before := Written()
	b.Data = []byte("three\n")
	w, err := WriteChanged(dir, a, b)
	if err != nil || len(w) != 1 || w[0] != "b" {
		t.Fatalf("second write wrote %v (%v); want b only", w, err)
	}
	if ino("a") != inoA || ino("b") == inoB {
		t.Error("the unchanged file was replaced, or the changed one was not")
	}
	after := Written()
	if got := after[dir+"/a"].Fsyncs - before[dir+"/a"].Fsyncs; got != 0 {
		t.Errorf("%d fsyncs of the unchanged file", got)
	}
	if got := after[dir+"/"].Fsyncs - before[dir+"/"].Fsyncs; got != 1 {
		t.Errorf("%d fsyncs of the directory, want 1", got)
	}
	a.Perm = 0o640 // the same content with another mode is a change
	if w, _ := WriteChanged(dir, a); len(w) != 1 {
		t.Error("a file with another mode was left")
	}
	if w, _ := WriteChanged(dir, a, b); len(w) != 0 {
		t.Errorf("rewrote %v, which had not changed", w)
	}
}
