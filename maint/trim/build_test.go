package trim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
)

// fixture is a build cache whose entries' ages are known, with things
// around them that a trim must never touch.
type fixture struct {
	dir     string
	now     time.Time
	ages    map[string]time.Duration // entry (relative path) -> age
	keepers []string                 // never removed, whatever the policy
	outside string                   // a file outside the cache
}

func entryName(i int, suffix string) string {
	h := sha256.Sum256([]byte(fmt.Sprint(i)))
	s := hex.EncodeToString(h[:])
	return s[:2] + "/" + s + suffix
}

func newFixture(t *testing.T, pairs int) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), now: time.Now(), ages: map[string]time.Duration{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 256 {
		must(os.Mkdir(filepath.Join(f.dir, fmt.Sprintf("%02x", i)), 0o755))
	}
	write := func(rel string, size int, age time.Duration) {
		t.Helper()
		p := filepath.Join(f.dir, rel)
		must(os.WriteFile(p, make([]byte, size), 0o644))
		when := f.now.Add(-age)
		must(os.Chtimes(p, when, when))
	}
	for i := range pairs {
		// Ages from 30 minutes (younger than any min_age) to about 60 days.
		age := 30*time.Minute + time.Duration(i)*(60*24*time.Hour/time.Duration(pairs))
		for _, s := range []string{"-a", "-d"} {
			name := entryName(i, s)
			write(name, map[string]int{"-a": 175, "-d": 1000 + 37*i}[s], age)
			f.ages[name] = age
		}
	}
	// A -d directory holding a cached executable (Go 1.24), very old.
	exe := entryName(pairs, "-d")
	must(os.Mkdir(filepath.Join(f.dir, exe), 0o755))
	write(exe+"/prog", 5000, 90*24*time.Hour)
	old := f.now.Add(-90 * 24 * time.Hour)
	must(os.Chtimes(filepath.Join(f.dir, exe), old, old))
	f.ages[exe] = 90 * 24 * time.Hour

	// What is not Go's stays, however old.
	for _, k := range []string{"README", "trim.txt", "fuzz/x/corpus", "00/notes.txt", "ab/" + hex.EncodeToString(make([]byte, 32)) + "-x",
		hex.EncodeToString(make([]byte, 32)) + "-a"} {
		must(os.MkdirAll(filepath.Dir(filepath.Join(f.dir, k)), 0o755))
		write(k, 10, 100*24*time.Hour)
		f.keepers = append(f.keepers, k)
	}
	// A link named like an entry: the link may go, never what it points to.
	f.outside = filepath.Join(t.TempDir(), "precious")
	must(os.WriteFile(f.outside, []byte("x"), 0o644))
	link := entryName(pairs+1, "-a")
	must(os.Symlink(f.outside, filepath.Join(f.dir, link)))
	ts := []unix.Timespec{unix.NsecToTimespec(old.UnixNano()), unix.NsecToTimespec(old.UnixNano())}
	must(unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(f.dir, link), ts, unix.AT_SYMLINK_NOFOLLOW))
	f.ages[link] = 90 * 24 * time.Hour
	return f
}

// present lists the entries of f.ages still there.
func (f *fixture) present(t *testing.T) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for name := range f.ages {
		if _, err := os.Lstat(filepath.Join(f.dir, name)); err == nil {
			got[name] = true
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	return got
}

func (f *fixture) checkKeepers(t *testing.T) {
	t.Helper()
	for _, k := range f.keepers {
		if _, err := os.Lstat(filepath.Join(f.dir, k)); err != nil {
			t.Errorf("%s, not Go's, was touched: %v", k, err)
		}
	}
	if _, err := os.Stat(f.outside); err != nil {
		t.Errorf("the target of a link in the cache was touched: %v", err)
	}
}

func trimWith(t *testing.T, f *fixture, p Policy, workers int, dry bool) (*Result, []string) {
	t.Helper()
	root, err := safefs.OpenRoot(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var mu sync.Mutex
	var removed []string
	res, err := Build(context.Background(), root, p, Options{DryRun: dry, Now: f.now, Workers: workers,
		Removed: func(r Removal) { mu.Lock(); removed = append(removed, r.Path); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed > 0 {
		t.Fatalf("%d removals failed, first %s", res.Failed, res.FirstError)
	}
	slices.Sort(removed)
	return res, removed
}

// TestBuildRemovesThePlan: with one worker and with many, a dry run lists
// exactly what the real run then removes, that is every entry at least as
// old as the cutoff and nothing younger, never anything used within
// min_age, and never what is not Go's.
func TestBuildRemovesThePlan(t *testing.T) {
	for _, workers := range []int{1, 0, 64} {
		for _, p := range []Policy{
			{MaxAge: 20 * 24 * time.Hour, MinAge: time.Hour},
			{MaxSize: 1 << 20, LowWater: 900 << 10, MinAge: time.Hour},
			{MaxSize: 1, LowWater: 1, MinAge: time.Hour}, // blocked by min_age
		} {
			t.Run(fmt.Sprintf("workers=%d/%s", workers, p), func(t *testing.T) {
				f := newFixture(t, 400)
				dry, planned := trimWith(t, f, p, workers, true)
				if len(f.present(t)) != len(f.ages) {
					t.Fatal("the dry run removed something")
				}
				res, removed := trimWith(t, f, p, workers, false)
				if !slices.Equal(planned, removed) {
					t.Fatalf("the dry run listed %d removals, the real run made %d", len(planned), len(removed))
				}
				if res.Files != dry.Files || res.FreedBytes != dry.FreedBytes || res.CutoffUnix != dry.CutoffUnix {
					t.Errorf("dry run %+v, real run %+v", dry, res)
				}
				left := f.present(t)
				cutoff := f.now.Sub(time.Unix(res.CutoffUnix, 0))
				var gone int
				for name, age := range f.ages {
					switch {
					case left[name]:
						if res.CutoffUnix != 0 && age > cutoff+time.Second {
							t.Errorf("%s, %v old, kept; cutoff %v", name, age, cutoff)
						}
					case age < p.MinAge:
						t.Errorf("%s, used %v ago, within min_age, removed", name, age)
					case res.CutoffUnix == 0 || age < cutoff-time.Second:
						t.Errorf("%s, %v old, removed; cutoff %v", name, age, cutoff)
					default:
						gone++
						if _, ok := slices.BinarySearch(removed, name); !ok {
							t.Errorf("%s removed but not reported", name)
						}
					}
				}
				if gone != len(removed) || int64(gone) != res.Units {
					t.Errorf("%d entries gone, %d reported, result says %d", gone, len(removed), res.Units)
				}
				if gone == 0 {
					t.Error("nothing removed: the fixture tests nothing")
				}
				f.checkKeepers(t)
			})
		}
	}
}

// TestBuildCancel: a cancelled trim stops between two removals: each
// worker finishes at most the removal it is in, and the result counts
// exactly what went. The daemon relies on this to stop on SIGTERM.
func TestBuildCancel(t *testing.T) {
	const stopAfter, workers = 25, 8
	f := newFixture(t, 1500)
	root, err := safefs.OpenRoot(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	n := 0
	res, err := Build(ctx, root, Policy{MaxAge: 2 * time.Hour, MinAge: time.Hour}, Options{Now: f.now, Workers: workers,
		Removed: func(Removal) {
			mu.Lock()
			defer mu.Unlock()
			if n++; n == stopAfter {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Build returned %v, want context.Canceled", err)
	}
	if res.Units < stopAfter || res.Units > stopAfter+workers-1 {
		t.Errorf("%d removals after a cancel at the %dth, with %d workers", res.Units, stopAfter, workers)
	}
	if gone := len(f.ages) - len(f.present(t)); int64(gone) != res.Units {
		t.Errorf("%d entries gone, result says %d", gone, res.Units)
	}
	f.checkKeepers(t)
}

// TestBuildStopsAtMounts: a directory mounted inside a cached executable's
// -d directory is neither counted nor entered nor removed; the removal of
// that entry fails and says so.
func TestBuildStopsAtMounts(t *testing.T) {
	testenv.Root(t)
	f := newFixture(t, 20)
	var exe string
	for name, age := range f.ages {
		if age == 90*24*time.Hour && strings.HasSuffix(name, "-d") {
			exe = name
		}
	}
	outside := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(outside, n), []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mnt := filepath.Join(f.dir, exe, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(outside, mnt, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	old := f.now.Add(-90 * 24 * time.Hour) // making mnt refreshed it
	if err := os.Chtimes(filepath.Join(f.dir, exe), old, old); err != nil {
		t.Fatal(err)
	}
	p := Policy{MaxAge: 2 * time.Hour, MinAge: time.Hour}
	root, err := safefs.OpenRoot(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, dry := range []bool{true, false} {
		var exeFiles int64 = -1
		res, err := Build(context.Background(), root, p, Options{DryRun: dry, Now: f.now,
			Removed: func(r Removal) {
				if r.Path == exe {
					exeFiles = r.Files
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		if dry && exeFiles != 1 {
			t.Errorf("dry run: the executable entry counts %d files; want 1, the mount's not included", exeFiles)
		}
		if !dry && (res.Failed != 1 || !strings.Contains(res.FirstError, exe) || exeFiles != -1) {
			t.Errorf("real run: failed %d (%s), entry reported removed: %v", res.Failed, res.FirstError, exeFiles != -1)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		if b, err := os.ReadFile(filepath.Join(outside, n)); err != nil || string(b) != "keep" {
			t.Errorf("the mounted directory's %s changed: %q %v", n, b, err)
		}
	}
	f.checkKeepers(t)
}
