package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/testenv"
)

// moduleTree makes a read-only tree like an extracted module version,
// holding a symbolic link to outside and a hard link to an outside file.
func moduleTree(t *testing.T, parent, outside string) string {
	t.Helper()
	v := filepath.Join(parent, "mod@v1.0.0")
	for _, d := range []string{"a/b/c", "d"} {
		if err := os.MkdirAll(filepath.Join(v, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"go.mod", "a/x.go", "a/b/y.go", "a/b/c/z.go", "d/w.go"} {
		if err := os.WriteFile(filepath.Join(v, f), []byte("package x\n"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	must(t, os.Symlink(outside, filepath.Join(v, "a", "link")))
	must(t, os.Link(filepath.Join(outside, "precious"), filepath.Join(v, "d", "hard")))
	filepath.WalkDir(v, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o555)
		}
		return nil
	})
	return v
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// outsideDir makes a directory outside the tree with a file, and returns a
// check that neither changed.
func outsideDir(t *testing.T) (string, func()) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "outside")
	must(t, os.Mkdir(dir, 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "precious"), []byte("keep"), 0o600))
	return dir, func() {
		t.Helper()
		st, err := os.Stat(dir)
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("the outside dir changed: %v %v", st, err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "precious"))
		if err != nil || string(b) != "keep" {
			t.Errorf("the outside file changed: %q %v", b, err)
		}
		if fi, err := os.Stat(filepath.Join(dir, "precious")); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("the outside file's mode changed: %v", fi.Mode())
		}
	}
}

// TestRemoveTree: a read-only tree goes whole; a link in it goes, never
// what it points to; a hard link goes as a name, the file stays.
func TestRemoveTree(t *testing.T) {
	parent := t.TempDir()
	outside, unchanged := outsideDir(t)
	moduleTree(t, parent, outside)
	r, err := OpenRoot(parent)
	must(t, err)
	defer r.Close()
	if err := r.RemoveTree(r.FD, "mod@v1.0.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(parent, "mod@v1.0.0")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the tree is still there: %v", err)
	}
	unchanged()
}

// TestRemoveTreeStopsAtMounts: a directory or a file mounted into the tree
// is neither entered nor removed, and RemoveTree says so.
func TestRemoveTreeStopsAtMounts(t *testing.T) {
	testenv.Root(t)
	for _, what := range []string{"dir", "file"} {
		t.Run(what, func(t *testing.T) {
			parent := t.TempDir()
			outside, unchanged := outsideDir(t)
			v := moduleTree(t, parent, outside)
			inside := filepath.Join(v, "a", "b", "mounted")
			must(t, os.Chmod(filepath.Join(v, "a", "b"), 0o755))
			source := outside
			if what == "dir" {
				must(t, os.Mkdir(inside, 0o755))
			} else {
				must(t, os.WriteFile(inside, nil, 0o644))
				source = filepath.Join(outside, "precious")
			}
			must(t, unix.Mount(source, inside, "", unix.MS_BIND, ""))
			defer unix.Unmount(inside, unix.MNT_DETACH)
			r, err := OpenRoot(parent)
			must(t, err)
			defer r.Close()
			err = r.RemoveTree(r.FD, "mod@v1.0.0")
			want := error(ErrOtherMount)
			if what == "file" {
				want = unix.EBUSY
			}
			if !errors.Is(err, want) {
				t.Errorf("RemoveTree over a mounted %s: %v, want %v", what, err, want)
			}
			unchanged()
		})
	}
}

// deepTree makes name in parent, a chain of levels directories (made with
// mkdirat, as no path could name the bottom), each holding a file, and
// read-only as extracted modules are.
func deepTree(t *testing.T, parent, name string, levels int) {
	t.Helper()
	fd, err := unix.Open(parent, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	must(t, err)
	must(t, unix.Mkdirat(fd, name, 0o755))
	next := name
	for i := 0; i < levels; i++ {
		sub, err := unix.Openat(fd, next, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		must(t, err)
		if i > 0 {
			must(t, unix.Fchmod(fd, 0o555)) // its entries are made
		}
		unix.Close(fd)
		fd = sub
		f, err := unix.Openat(fd, "f.go", unix.O_CREAT|unix.O_WRONLY, 0o444)
		must(t, err)
		unix.Close(f)
		if i < levels-1 {
			must(t, unix.Mkdirat(fd, "d", 0o755))
		}
		next = "d"
	}
	must(t, unix.Fchmod(fd, 0o555))
	unix.Close(fd)
}

// TestRemoveTreeDeep: a tree nested far deeper than any fd budget (1,000
// levels) goes whole, read-only levels included.
func TestRemoveTreeDeep(t *testing.T) {
	parent := t.TempDir()
	deepTree(t, parent, "deep@v1.0.0", 1000)
	r, err := OpenRoot(parent)
	must(t, err)
	defer r.Close()
	if err := r.RemoveTree(r.FD, "deep@v1.0.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(parent, "deep@v1.0.0")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the tree is still there: %v", err)
	}
}
