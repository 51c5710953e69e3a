package facts

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/scan"
)

func gather(t *testing.T, dir string, build bool) *Facts {
	t.Helper()
	fd, root, err := scan.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	f, err := Gather(context.Background(), fd, root, Options{Build: build, Writer: Identity{UID: uint32(os.Getuid())}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestOddNames: newlines, invalid UTF-8 and 255-byte names are counted and
// reported like any other name.
func TestOddNames(t *testing.T) {
	dir := t.TempDir()
	shard := filepath.Join(dir, "ab")
	os.Mkdir(shard, 0o755)
	names := []string{"new\nline", "bad\xff\xfeutf8", strings.Repeat("x", 255)}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(shard, n), []byte("12345"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := gather(t, dir, true)
	if f.Files != 3 || f.ApparentBytes != 15 || f.Unexpected.Count != 3 {
		t.Fatalf("files=%d bytes=%d unexpected=%d", f.Files, f.ApparentBytes, f.Unexpected.Count)
	}
	for _, p := range f.Unexpected.Paths {
		if !strings.HasPrefix(p, "ab/") {
			t.Errorf("path %q", p)
		}
	}
}

// TestSymlinksNotFollowed: a link to a large outside tree counts as one
// symlink, and a symlinked root is refused.
func TestSymlinksNotFollowed(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	for i := 0; i < 5; i++ {
		os.WriteFile(filepath.Join(outside, string(rune('a'+i))), make([]byte, 100), 0o644)
	}
	os.Symlink(outside, filepath.Join(dir, "ab"))
	f := gather(t, dir, true)
	if f.Files != 0 || f.Symlinks != 1 || f.Dirs != 1 {
		t.Fatalf("files=%d symlinks=%d dirs=%d", f.Files, f.Symlinks, f.Dirs)
	}
	if _, _, err := scan.OpenRoot(filepath.Join(dir, "ab")); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlinked root: %v", err)
	}
}

// TestDeepTree: a tree deeper than the walk's limit is reported, and what
// lies above the limit is still counted.
func TestDeepTree(t *testing.T) {
	dir := t.TempDir()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	const depth = 3000
	for i := 0; i < depth; i++ {
		if err := unix.Mkdirat(fd, "d", 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, "d", unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
		fd = next
	}
	unix.Close(fd)
	f := gather(t, dir, false)
	if f.TooDeep.Count != 1 || f.Dirs != 2049 { // the root and 2048 levels seen; the last is not read
		t.Fatalf("too deep %d, dirs %d", f.TooDeep.Count, f.Dirs)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
}

func TestWritable(t *testing.T) {
	st := func(uid, gid uint32, mode uint16) *unix.Statx_t {
		return &unix.Statx_t{Uid: uid, Gid: gid, Mode: unix.S_IFDIR | mode}
	}
	id := Identity{UID: 1000, GIDs: []uint32{1000, 50}}
	for _, tc := range []struct {
		st   *unix.Statx_t
		want bool
	}{
		{st(1000, 1000, 0o755), true}, {st(1000, 1000, 0o555), false},
		{st(0, 0, 0o755), false}, {st(0, 50, 0o775), true}, {st(0, 0, 0o777), true}, {st(0, 50, 0o755), false},
	} {
		if got := writable(tc.st, id); got != tc.want {
			t.Errorf("writable(%+v) = %v", *tc.st, got)
		}
	}
	if !writable(st(5, 5, 0o500), Identity{UID: 0}) {
		t.Error("root can write anything")
	}
}
