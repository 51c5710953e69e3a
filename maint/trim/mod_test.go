package trim

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/safefs"
)

// modCache is a module cache made by hand in Go's layout, for states a
// real go command leaves only when interrupted.
type modCache struct {
	dir string
	now time.Time
}

func newModCache(t *testing.T) *modCache {
	t.Helper()
	return &modCache{dir: t.TempDir(), now: time.Now()}
}

// version writes module mod at ver, used age ago: the extracted tree
// (read-only, unless tree is false) and the download files of exts.
func (m *modCache) version(t *testing.T, mod, ver string, age time.Duration, tree bool, exts ...string) {
	t.Helper()
	when := m.now.Add(-age)
	dl := filepath.Join(m.dir, "cache/download", mod, "@v")
	mustT(t, os.MkdirAll(dl, 0o755))
	for _, ext := range exts {
		p := filepath.Join(dl, ver+ext)
		mustT(t, os.WriteFile(p, make([]byte, 4096), 0o644))
		mustT(t, os.Chtimes(p, when, when))
	}
	if !tree {
		return
	}
	v := filepath.Join(m.dir, mod+"@"+ver)
	mustT(t, os.MkdirAll(filepath.Join(v, "sub"), 0o755))
	for _, f := range []string{"go.mod", "a.go", "sub/b.go"} {
		p := filepath.Join(v, f)
		mustT(t, os.WriteFile(p, make([]byte, 8192), 0o444))
		mustT(t, os.Chtimes(p, when, when))
	}
	mustT(t, os.Chmod(filepath.Join(v, "sub"), 0o555))
	mustT(t, os.Chmod(v, 0o555))
}

func (m *modCache) exists(rel string) bool {
	_, err := os.Lstat(filepath.Join(m.dir, rel))
	return !errors.Is(err, fs.ErrNotExist)
}

func (m *modCache) trim(t *testing.T, p Policy, dry bool) *Result {
	t.Helper()
	root, err := safefs.OpenRoot(m.dir)
	mustT(t, err)
	defer root.Close()
	res, err := Mod(context.Background(), root, p, Options{DryRun: dry, Now: m.now}, false)
	mustT(t, err)
	return res
}

func mustT(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// deepChain makes rel/d/d/... levels deep below dir, with mkdirat since no
// path may name the bottom, and a file at the bottom last used at when.
func deepChain(t *testing.T, dir string, levels int, when time.Time) {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	mustT(t, err)
	for range levels {
		if err := unix.Mkdirat(fd, "d", 0o755); err != nil && err != unix.EEXIST {
			t.Fatal(err)
		}
		sub, err := unix.Openat(fd, "d", unix.O_RDONLY|unix.O_DIRECTORY, 0)
		mustT(t, err)
		unix.Close(fd)
		fd = sub
	}
	f, err := unix.Openat(fd, "deep.go", unix.O_CREAT|unix.O_WRONLY, 0o444)
	mustT(t, err)
	unix.Write(f, make([]byte, 4096))
	ts := unix.NsecToTimespec(when.UnixNano())
	mustT(t, unix.UtimesNanoAt(fd, "deep.go", []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW))
	unix.Close(f)
	unix.Close(fd)
}

// TestModDeepVersion: a version nested deeper than 256 levels is counted
// (as a lower bound, and said so) and removed whole, like any other.
func TestModDeepVersion(t *testing.T) {
	m := newModCache(t)
	m.version(t, "example.com/deep", "v1.0.0", 40*24*time.Hour, false, ".info", ".mod", ".zip", ".ziphash")
	v := filepath.Join(m.dir, "example.com/deep@v1.0.0")
	mustT(t, os.MkdirAll(v, 0o755))
	old := m.now.Add(-40 * 24 * time.Hour)
	deepChain(t, v, 300, old)
	mustT(t, os.WriteFile(filepath.Join(v, "go.mod"), []byte("module example.com/deep\n"), 0o444))
	mustT(t, os.Chtimes(filepath.Join(v, "go.mod"), old, old))
	mustT(t, os.Chtimes(v, old, old))
	p := Policy{MaxAge: 30 * 24 * time.Hour, MinAge: time.Hour}
	dry := m.trim(t, p, true)
	if dry.Versions != 1 || dry.TooDeep != 1 {
		t.Fatalf("dry run: %d versions, %d too deep; want the deep version, counted as too deep", dry.Versions, dry.TooDeep)
	}
	res := m.trim(t, p, false)
	if res.Versions != 1 || res.Failed != 0 || m.exists("example.com/deep@v1.0.0") || m.exists("cache/download/example.com/deep/@v/v1.0.0.zip") {
		t.Fatalf("real run: %+v; the version is still there: %v", res, m.exists("example.com/deep@v1.0.0"))
	}
}

// TestBuildDeepEntry: a cached-executable directory holding a tree deeper
// than 256 levels goes like any other entry; it used to fail every run.
func TestBuildDeepEntry(t *testing.T) {
	f := newFixture(t, 10)
	var exe string
	for name, age := range f.ages {
		if age == 90*24*time.Hour && filepath.Ext(name) == "" && name[len(name)-2:] == "-d" {
			if st, err := os.Lstat(filepath.Join(f.dir, name)); err == nil && st.IsDir() {
				exe = name
			}
		}
	}
	old := f.now.Add(-90 * 24 * time.Hour)
	deepChain(t, filepath.Join(f.dir, exe), 300, old)
	mustT(t, os.Chtimes(filepath.Join(f.dir, exe), old, old))
	root, err := safefs.OpenRoot(f.dir)
	mustT(t, err)
	defer root.Close()
	res, err := Build(context.Background(), root, Policy{MaxAge: 30 * 24 * time.Hour, MinAge: time.Hour}, Options{Now: f.now})
	mustT(t, err)
	if res.Failed != 0 || res.TooDeep != 1 {
		t.Errorf("failed %d (%s), too deep %d; want 0 failures and 1 entry too deep", res.Failed, res.FirstError, res.TooDeep)
	}
	if _, err := os.Lstat(filepath.Join(f.dir, exe)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the deep entry is still there: %v", err)
	}
	f.checkKeepers(t)
}
