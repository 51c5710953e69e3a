package scan

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenDirWithoutOpenat2: the fallback for kernels without openat2
// refuses a link anywhere in the path, not only as its last component as
// a plain open(2) with O_NOFOLLOW would.
func TestOpenDirWithoutOpenat2(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "real", "cache"), 0o755)
	os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "swapped"))
	os.Symlink(filepath.Join(dir, "real", "cache"), filepath.Join(dir, "cachelink"))
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := openNoLinks(filepath.Join(dir, "real", "cache"), flags)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Getdents(fd, make([]byte, 4096)); err != nil {
		t.Errorf("not opened for reading: %v", err)
	}
	unix.Close(fd)
	for _, p := range []string{filepath.Join(dir, "swapped", "cache"), filepath.Join(dir, "cachelink"), "relative/path"} {
		if fd, err := openNoLinks(p, flags); err == nil {
			unix.Close(fd)
			t.Errorf("openNoLinks(%s) followed a link", p)
		}
	}
	if fd, err := openNoLinks("/", flags); err != nil {
		t.Errorf("/: %v", err)
	} else {
		unix.Close(fd)
	}
}
