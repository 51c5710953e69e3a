package clean

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/lock"
	"github.com/gomaint/gomaint/maint/testenv"
	"github.com/gomaint/gomaint/maint/trim"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}

func cfgFor(kind config.Kind, path string, edit func(*config.Target)) *config.Config {
	c := config.Default(config.User)
	t := c.Targets[0]
	t.Name, t.Kind, t.Path, t.MinAge = string(kind), kind, path, config.Duration(time.Hour)
	if edit != nil {
		edit(&t)
	}
	c.Targets = []config.Target{t}
	return c
}

type recorder struct {
	mu       sync.Mutex
	removals []string
}

func (r *recorder) add(_ string, rm trim.Removal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removals = append(r.removals, rm.Path)
}

func run(t *testing.T, cfg *config.Config, dryRun bool, env []string) (Outcome, []string, *journal.Memory) {
	t.Helper()
	rec, sink := &recorder{}, &journal.Memory{}
	if env == nil {
		env = os.Environ()
	}
	out := Run(context.Background(), Request{Config: cfg, Environ: env, DryRun: dryRun, Sink: sink, Removed: rec.add,
		LockDir: filepath.Join(testenv.Dir(t), "locks")})
	if len(out) != 1 {
		t.Fatalf("%d outcomes", len(out))
	}
	sort.Strings(rec.removals)
	return out[0], rec.removals, sink
}

// entryTimes maps every -a/-d entry of a build cache to its mtime.
func entryTimes(t *testing.T, cache string) map[string]time.Time {
	m := map[string]time.Time{}
	shards, _ := filepath.Glob(filepath.Join(cache, "[0-9a-f][0-9a-f]", "*-[ad]"))
	for _, p := range shards {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		m[p] = fi.ModTime()
	}
	return m
}

// TestBuildTrim: a cache filled by real go build/test runs, aged with
// touch, trimmed to half its size: it ends under the limit, every removed
// entry is older than every kept one (up to the hour of mtime granularity),
// nothing younger than min_age goes, a stray file stays, and the next go
// build succeeds. A dry run lists exactly what the real run removes.
func TestBuildTrim(t *testing.T) {
	dir := testenv.RealCaches(t)
	cache := filepath.Join(dir, "gocache")
	// Spread last use over 0..200 hours; a few entries stay fresh.
	before := entryTimes(t, cache)
	paths := make([]string, 0, len(before))
	for p := range before {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	now := time.Now()
	for i, p := range paths {
		age := time.Duration(i%200) * time.Hour
		if i%17 == 0 {
			age = 10 * time.Minute // in use: must survive any trim
		}
		os.Chtimes(p, now.Add(-age), now.Add(-age))
	}
	stray := filepath.Join(cache, "3f", "notes.txt")
	os.WriteFile(stray, []byte("mine"), 0o644)
	old := now.Add(-1000 * time.Hour)
	os.Chtimes(stray, old, old)
	before = entryTimes(t, cache)

	var size int64
	out, _, _ := run(t, cfgFor(config.Build, cache, nil), true, nil)
	size = out.DiskBytesBefore
	limit := size / 2
	cfg := cfgFor(config.Build, cache, func(tg *config.Target) { tg.MaxSize = config.Size(limit) })
	dry, dryList, _ := run(t, cfg, true, nil)
	if dry.FreedBytes == 0 || len(entryTimes(t, cache)) != len(before) {
		t.Fatalf("dry run: freed %d, entries %d -> %d", dry.FreedBytes, len(before), len(entryTimes(t, cache)))
	}
	real, realList, sink := run(t, cfg, false, nil)
	if !real.OK() || real.DiskBytesAfter > limit {
		t.Fatalf("not within limit: %+v %+v", real, real.Result)
	}
	if strings.Join(dryList, "\n") != strings.Join(realList, "\n") {
		t.Errorf("dry run listed %d removals, real run made %d", len(dryList), len(realList))
	}
	after := entryTimes(t, cache)
	var newestRemoved, oldestKept time.Time
	for p, mt := range before {
		if _, kept := after[p]; kept {
			if oldestKept.IsZero() || mt.Before(oldestKept) {
				oldestKept = mt
			}
			continue
		}
		if now.Sub(mt) < time.Hour {
			t.Errorf("removed %s, used %s ago", p, now.Sub(mt))
		}
		if mt.After(newestRemoved) {
			newestRemoved = mt
		}
	}
	if newestRemoved.After(oldestKept.Add(time.Hour)) {
		t.Errorf("removed an entry used at %s but kept one used at %s", newestRemoved, oldestKept)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("stray file removed: %v", err)
	}
	for _, keep := range []string{"README", "trim.txt"} {
		if _, err := os.Stat(filepath.Join(cache, keep)); err != nil {
			t.Errorf("%s removed", keep)
		}
	}
	ev := sink.Snapshot()
	if len(ev) != 1 || ev[0].Type != journal.Trim || ev[0].Fields["GOMAINT_FREED_BYTES"] != journal.Int(real.FreedBytes) || ev[0].Fields["GOMAINT_DRY_RUN"] != "0" {
		t.Errorf("trim event: %+v", ev)
	}
	src := testenv.Module(t, dir)
	testenv.Run(t, testenv.GoEnv(dir), src, "go", "build", "-o", os.DevNull, ".")
}

// TestBuildTrimBlockedByMinAge: a limit that cannot be met without
// removing recently used entries is reported, and they stay.
func TestBuildTrimBlockedByMinAge(t *testing.T) {
	dir := testenv.RealCaches(t)
	cache := filepath.Join(dir, "gocache")
	n := len(entryTimes(t, cache))
	out, _, sink := run(t, cfgFor(config.Build, cache, func(tg *config.Target) { tg.MaxSize = 1 << 20 }), false, nil)
	if out.OK() || !strings.HasPrefix(out.Blocked, "min_age") || out.Files != 0 || len(entryTimes(t, cache)) != n {
		t.Fatalf("%+v", out.Result)
	}
	if ev := sink.Snapshot(); len(ev) != 1 || !strings.HasPrefix(ev[0].Fields["GOMAINT_BLOCKED"], "min_age") {
		t.Errorf("event: %+v", ev)
	}
}

// TestModTrim: an old module version is removed with its zip (its .info,
// .mod and .lock stay), a build that needs it downloads it again; a
// version whose lock another process holds is skipped.
func TestModTrim(t *testing.T) {
	dir := testenv.RealCaches(t)
	mod := filepath.Join(dir, "gomodcache")
	vdir := filepath.Join(mod, "github.com", "google", "uuid@v1.6.0")
	dl := filepath.Join(mod, "cache", "download", "github.com", "google", "uuid", "@v")
	old := time.Now().Add(-10 * 24 * time.Hour)
	testenv.Run(t, nil, "", "find", vdir, "-exec", "touch", "-a", "-h", "-d", old.Format(time.RFC3339), "{}", "+")
	cfg := cfgFor(config.Mod, mod, func(tg *config.Target) { tg.MaxAge = config.Duration(5 * 24 * time.Hour) })

	// Locked: skipped, nothing removed.
	lk, err := os.OpenFile(filepath.Join(dl, "v1.6.0.lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(lk.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	out, _, _ := run(t, cfg, false, nil)
	if out.Skipped != 1 || out.Versions != 0 {
		t.Fatalf("locked: %+v", out.Result)
	}
	if _, err := os.Stat(vdir); err != nil {
		t.Fatal("locked version removed")
	}
	lk.Close()

	out, list, _ := run(t, cfg, false, nil)
	if out.Versions != 1 || len(list) != 1 || list[0] != "github.com/google/uuid@v1.6.0" {
		t.Fatalf("unlocked: %+v %v", out.Result, list)
	}
	for name, want := range map[string]bool{"v1.6.0.zip": false, "v1.6.0.ziphash": false, "v1.6.0.partial": false,
		"v1.6.0.info": true, "v1.6.0.mod": true, "v1.6.0.lock": true} {
		if _, err := os.Stat(filepath.Join(dl, name)); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", name, err == nil, want)
		}
	}
	if _, err := os.Stat(vdir); err == nil {
		t.Error("version directory still there")
	}
	src := testenv.Module(t, dir)
	testenv.Run(t, testenv.GoEnv(dir), src, "go", "build", "-o", os.DevNull, ".")
	if _, err := os.Stat(vdir); err != nil {
		t.Error("go did not download the version again")
	}
}

// TestOneCleanAtATime: a second clean of a target whose lock is held
// reports that another gomaint is working on it.
func TestOneCleanAtATime(t *testing.T) {
	dir := testenv.Dir(t)
	cache := filepath.Join(dir, "c")
	os.Mkdir(cache, 0o755)
	locks := filepath.Join(dir, "locks")
	req := Request{Config: cfgFor(config.Build, cache, nil), Environ: os.Environ(), LockDir: locks, NoWait: true}
	fd, err := unix.Open(cache, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	release, err := lock.Acquire(locks, fd, "build", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	out := Run(context.Background(), req)
	if out[0].OK() || !strings.Contains(out[0].Error, "being worked on by another gomaint") {
		t.Fatalf("%+v", out[0])
	}
}

// TestConcurrentBuilds: two processes loop go build and go test over one
// cache pair while gomaint clean runs again and again with an aggressive
// cap and min_age 1h. No build may fail.
//
// The cleaner's first pass removes the aged standard library too, so each
// loop's first build compiles it again: on a loaded machine that alone can
// take a minute. So the loops run for 60 s and at least minBuilds builds
// each (at most 5 minutes), and the cleaner runs until both are done.
func TestConcurrentBuilds(t *testing.T) {
	const minBuilds = 3
	dir := testenv.RealCaches(t)
	cache, mod := filepath.Join(dir, "gocache"), filepath.Join(dir, "gomodcache")
	// Age everything so the cleaner has work: entries go uses get their
	// mtime refreshed; the others are fair game.
	old := time.Now().Add(-3 * time.Hour)
	testenv.Run(t, nil, "", "find", cache, mod, "-exec", "touch", "-h", "-d", old.Format(time.RFC3339), "{}", "+")
	src := testenv.Module(t, dir)
	env := testenv.GoEnv(dir)
	start := time.Now()
	var builds, failures atomic.Int64
	var running atomic.Int32
	for _, args := range [][]string{{"build", "-o", os.DevNull, "."}, {"test", "-count=1", "."}} {
		running.Add(1)
		go func(args []string) {
			defer running.Add(-1)
			for n := 0; (n < minBuilds || time.Since(start) < 60*time.Second) && time.Since(start) < 5*time.Minute; n++ {
				cmd := exec.Command("go", args...)
				cmd.Dir, cmd.Env = src, env
				if out, err := cmd.CombinedOutput(); err != nil {
					failures.Add(1)
					t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				builds.Add(1)
			}
		}(args)
	}
	var cleans, freed int64
	for running.Load() > 0 {
		for _, cfg := range []*config.Config{
			cfgFor(config.Build, cache, func(tg *config.Target) { tg.MaxSize = 1 << 20 }),
			cfgFor(config.Mod, mod, func(tg *config.Target) { tg.MaxSize = 1 << 20 }),
		} {
			out, _, _ := run(t, cfg, false, env)
			if out.Result != nil {
				freed += out.FreedBytes
				if out.Failed > 0 {
					t.Errorf("clean failed: %s", out.FirstError)
				}
			}
			cleans++
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d builds, %d failures, %d cleans freed %d bytes in %.0fs", builds.Load(), failures.Load(), cleans, freed, time.Since(start).Seconds())
	if builds.Load() < 2*minBuilds || freed == 0 {
		t.Errorf("the test did not exercise anything: %d builds, %d bytes freed", builds.Load(), freed)
	}
}
