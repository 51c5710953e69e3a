package scan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestEachEntry: every entry once, over many getdents calls, with odd
// names intact and the right types; removing each entry as it is handed
// over (as a trim does) neither skips nor repeats one.
func TestEachEntry(t *testing.T) {
	dir := t.TempDir()
	want := map[string]uint32{}
	for i := range 3000 {
		n := fmt.Sprintf("%064x-a", i)
		want[n] = unix.S_IFREG
	}
	for _, n := range []string{"new\nline", "bad\xff", strings.Repeat("n", 255)} {
		want[n] = unix.S_IFREG
	}
	want["sub"], want["link"] = unix.S_IFDIR, unix.S_IFLNK
	for n, typ := range want {
		p := filepath.Join(dir, n)
		var err error
		switch typ {
		case unix.S_IFDIR:
			err = os.Mkdir(p, 0o755)
		case unix.S_IFLNK:
			err = os.Symlink("/etc/passwd", p)
		default:
			err = os.WriteFile(p, []byte("x"), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, remove := range []bool{false, true} {
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		buf := make([]byte, 4<<10) // many reads for 3,000 entries
		err = EachEntry(fd, buf, func(name []byte, cname *byte, st *unix.Statx_t, serr error) error {
			if serr != nil {
				return serr
			}
			seen[string(name)]++
			if got := uint32(st.Mode) & unix.S_IFMT; got != want[string(name)] {
				t.Errorf("%q: type %o, want %o", name, got, want[string(name)])
			}
			if remove && st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return unix.Unlinkat(fd, string(name), 0)
			}
			return nil
		})
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		for n := range want {
			if seen[n] != 1 {
				t.Errorf("remove=%v: %q seen %d times", remove, n, seen[n])
			}
		}
		if len(seen) != len(want) {
			t.Errorf("remove=%v: %d names seen, want %d", remove, len(seen), len(want))
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || ents[0].Name() != "sub" {
		t.Errorf("after removing every file: %v", ents)
	}
}
