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

// TestModCompletesInterrupted: a module version is one unit whatever state
// a killed removal or extraction left it in. Every run completes an
// interrupted one (a .partial), however young and whatever the policy,
// unless go holds its lock; a downloaded-only version goes by its age like
// any other; .info and .mod always stay.
func TestModCompletesInterrupted(t *testing.T) {
	const day = 24 * time.Hour
	setup := func(t *testing.T) (*modCache, func()) {
		m := newModCache(t)
		all := []string{".info", ".mod", ".zip", ".ziphash"}
		m.version(t, "example.com/a", "v1.0.0", time.Minute, true, append(all, ".partial")...) // tree and all: young
		m.version(t, "example.com/b", "v1.0.0", 20*day, false, ".info", ".mod", ".zip", ".ziphash", ".partial")
		m.version(t, "example.com/c", "v1.0.0", 20*day, false, ".info", ".mod", ".ziphash", ".partial")
		m.version(t, "example.com/d", "v1.0.0", time.Minute, false, ".info", ".mod", ".partial")
		m.version(t, "example.com/e", "v1.0.0", 40*day, false, all...)                          // downloaded only, old
		m.version(t, "example.com/f", "v1.0.0", 2*day, false, all...)                           // downloaded only, young
		m.version(t, "example.com/g", "v1.0.0", time.Minute, true, all...)                      // complete, young
		m.version(t, "example.com/!h", "v1.0.0", time.Minute, true, append(all, ".partial")...) // go is at it
		lock, err := os.OpenFile(filepath.Join(m.dir, "cache/download/example.com/!h/@v/v1.0.0.lock"), os.O_CREATE|os.O_RDWR, 0o644)
		mustT(t, err)
		mustT(t, unix.Flock(int(lock.Fd()), unix.LOCK_EX))
		return m, func() { lock.Close() }
	}
	gone := []string{"a", "b", "c", "d"}
	kept := []string{"f", "g", "!h"}
	for _, p := range []Policy{{MinAge: 24 * time.Hour}, {MaxAge: 30 * day, MinAge: 24 * time.Hour}} {
		t.Run(p.String(), func(t *testing.T) {
			m, unlock := setup(t)
			defer unlock()
			want := gone
			if p.MaxAge > 0 {
				want = append(want, "e")
			}
			dry := m.trim(t, p, true)
			if dry.Versions != int64(len(want)) || dry.Skipped != 1 {
				t.Errorf("dry run: %d versions (want %d), %d skipped (want 1)", dry.Versions, len(want), dry.Skipped)
			}
			res := m.trim(t, p, false)
			if res.Versions != int64(len(want)) || res.Failed != 0 || res.Skipped != 1 {
				t.Errorf("real run: %d versions (want %d), %d failed (%s), %d skipped (want 1)", res.Versions, len(want), res.Failed, res.FirstError, res.Skipped)
			}
			for _, mod := range want {
				for _, rel := range []string{"example.com/" + mod + "@v1.0.0", "cache/download/example.com/" + mod + "/@v/v1.0.0.zip",
					"cache/download/example.com/" + mod + "/@v/v1.0.0.ziphash", "cache/download/example.com/" + mod + "/@v/v1.0.0.partial"} {
					if m.exists(rel) {
						t.Errorf("%s: %s is still there", mod, rel)
					}
				}
			}
			for _, mod := range append(kept, want...) {
				for _, ext := range []string{".info", ".mod"} {
					if rel := "cache/download/example.com/" + mod + "/@v/v1.0.0" + ext; !m.exists(rel) {
						t.Errorf("%s was removed", rel)
					}
				}
			}
			for _, rel := range []string{"cache/download/example.com/f/@v/v1.0.0.zip", "example.com/g@v1.0.0/sub/b.go",
				"example.com/!h@v1.0.0/a.go", "cache/download/example.com/!h/@v/v1.0.0.partial"} {
				if !m.exists(rel) {
					t.Errorf("%s was removed", rel)
				}
			}
			again := m.trim(t, p, false)
			if again.Versions != 0 {
				t.Errorf("a second run removed %d more versions", again.Versions)
			}
		})
	}
}

// TestModSizeCountsDownloads: downloaded-only versions count towards the
// size and go to meet it; they used to count as nothing removable, so a
// clean freed 0 B and blamed min_age.
func TestModSizeCountsDownloads(t *testing.T) {
	m := newModCache(t)
	for i, mod := range []string{"a", "b", "c", "d"} {
		m.version(t, "example.com/"+mod, "v1.0.0", 20*24*time.Hour+time.Duration(i)*time.Minute, false, ".info", ".mod", ".zip", ".ziphash")
	}
	before := m.trim(t, Policy{MinAge: 24 * time.Hour}, true).DiskBytesBefore
	res := m.trim(t, Policy{MaxSize: before - 1, LowWater: before - 20<<10, MinAge: 24 * time.Hour}, false)
	if res.Blocked != "" || !res.WithinLimit || res.Versions != 3 {
		t.Errorf("%+v: want exactly 3 versions removed (the oldest) and the cache within its limit", res)
	}
}
