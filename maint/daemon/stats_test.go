package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/testenv"
)

// Modules whose builds share the standard library's core and differ in
// the rest: alternated, each needs the other's part evicted.
var (
	modA = []string{"go/types", "database/sql", "encoding/xml"}
	modB = []string{"html/template", "net/mail", "archive/zip", "image/png"}
)

// targetStatus asks the daemon for the status of its one target.
func targetStatus(t *testing.T, d *inProcess) TargetStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := Ask(ctx, d.socket, Request{Command: "status"})
	if err != nil || len(resp.Status.Targets) != 1 {
		t.Fatalf("status: %v %+v", err, resp)
	}
	return resp.Status.Targets[0]
}

// counted waits until the daemon's total satisfies ok.
func counted(t *testing.T, d *inProcess, what string, ok func(Counters) bool) TargetStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ts := targetStatus(t, d)
		if ts.Stats != nil && ok(ts.Stats.Total) {
			return ts
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: counts %+v", what, ts.Stats)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hasFinding(ts TargetStatus, code string) *audit.Finding {
	for _, f := range ts.Findings {
		if f.Code.String() == code {
			return &f
		}
	}
	return nil
}

// build runs go build of src and lets the watch's events arrive.
func build(t *testing.T, env []string, src string) {
	t.Helper()
	testenv.Run(t, env, src, "go", "build", "-o", os.DevNull, ".")
}

// TestStatsHealthyThenThrashing (issue 16): an alternating two-module loop
// under a limit above both counts hits and no LIMIT_THRASHING; the counts
// survive a restart; the same loop under a limit below their combined
// size re-creates what trims evicted: LIMIT_THRASHING, with a working set
// and a max_size above the limit.
func TestStatsHealthyThenThrashing(t *testing.T) {
	testenv.Command(t, "go")
	dir := testenv.Dir(t)
	env := testenv.GoEnv(dir)
	cache := testenv.GoCacheRoot(t, dir)
	a, b := testenv.StdModule(t, dir, "a", modA...), testenv.StdModule(t, dir, "b", modB...)
	state := filepath.Join(dir, "state")
	withState := func(o *Options) { o.StateDir = state }

	d := runDaemon(t, quiet(buildTarget(cache, 1<<40, time.Hour)), withState)
	watchEvent(t, d, 0, watchWatching, "", 10*time.Second)
	build(t, env, a)
	counted(t, d, "first build", func(c Counters) bool { return c.Misses > 50 })
	sizeA := diskUsage(t, cache)
	testenv.Backdate(t, cache, 2*time.Hour)
	build(t, env, b)
	testenv.Backdate(t, cache, 2*time.Hour)
	before := counted(t, d, "second build", func(c Counters) bool { return c.Hits > 0 }).Stats.Total
	build(t, env, a)
	build(t, env, b)
	healthy := counted(t, d, "healthy loop", func(c Counters) bool { return c.Hits > before.Hits+100 })
	sizeAB := diskUsage(t, cache)
	t.Logf("healthy loop: %+v; a alone %d bytes, a and b %d", healthy.Stats.Total, sizeA, sizeAB)
	if f := hasFinding(healthy, "LIMIT_THRASHING"); f != nil || healthy.Stats.Total.Recreated != 0 {
		t.Fatalf("a healthy loop: %+v, %+v", f, healthy.Stats.Total)
	}
	d.stop()
	<-d.exited
	d.exited <- 0 // for runDaemon's cleanup

	limit := sizeA + (sizeAB-sizeA)/2
	testenv.Backdate(t, cache, 2*time.Hour) // all of it may go, as min_age allows
	d = runDaemon(t, quiet(buildTarget(cache, limit, time.Hour)), withState)
	again := targetStatus(t, d)
	if again.Stats == nil || again.Stats.Total.Hits < healthy.Stats.Total.Hits || !again.Stats.Since.Equal(healthy.Stats.Since) {
		t.Fatalf("after a restart the counts are %+v, want at least %+v since %s", again.Stats, healthy.Stats.Total, healthy.Stats.Since)
	}
	heldUnder(t, d, cache, limit, time.Minute, "the lower limit")
	for i := 0; i < 2; i++ {
		for _, src := range []string{a, b} {
			testenv.Backdate(t, cache, 2*time.Hour)
			build(t, env, src)
			// What this build used is younger than min_age: a trim retried
			// after a growing pause takes what the other module used.
			heldUnder(t, d, cache, limit, 2*time.Minute, "the alternating loop")
		}
	}
	thrash := counted(t, d, "thrashing", func(c Counters) bool { return c.Recreated >= thrashMin })
	deadline := time.Now().Add(10 * time.Second)
	for hasFinding(thrash, "LIMIT_THRASHING") == nil && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		thrash = targetStatus(t, d)
	}
	f := hasFinding(thrash, "LIMIT_THRASHING")
	t.Logf("thrashing loop under %d bytes: %+v; %+v", limit, thrash.Stats.Total, f)
	if f == nil || f.DiskBytes <= limit || !strings.Contains(f.Fix, "max_size = ") {
		t.Fatalf("no LIMIT_THRASHING with a working set above the limit %d: %+v", limit, f)
	}
}

// TestStatsWiped (issue 16): the daemon raises CACHE_WIPED the moment a
// watched cache is removed (rm -rf) or emptied by someone's go clean
// -cache, counts on in the cache made again, and an audit raises it from
// the saved status for a wipe while no daemon ran.
func TestStatsWiped(t *testing.T) {
	testenv.Command(t, "go")
	for _, how := range []string{"rm -rf", "go clean -cache"} {
		t.Run(strings.Fields(how)[0], func(t *testing.T) {
			dir := testenv.Dir(t)
			env := testenv.GoEnv(dir)
			cache := testenv.GoCacheRoot(t, dir)
			src := testenv.StdModule(t, dir, "w", "encoding/json")
			state := filepath.Join(dir, "state")
			cfg := quiet(buildTarget(cache, 1<<40, time.Hour))
			d := runDaemon(t, cfg, func(o *Options) { o.StateDir = state })
			watchEvent(t, d, 0, watchWatching, "", 10*time.Second)
			build(t, env, src)
			first := counted(t, d, "build", func(c Counters) bool { return c.Misses > 50 }).Stats.Total
			time.Sleep(3 * time.Second) // a poll sees the cache whole
			if how == "rm -rf" {
				testenv.RemoveAll(t, cache)
			} else {
				testenv.Run(t, env, src, "go", "clean", "-cache")
			}
			deadline := time.Now().Add(15 * time.Second)
			var f *audit.Finding
			for f == nil && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
				f = hasFinding(targetStatus(t, d), "CACHE_WIPED")
			}
			if f == nil || f.Count < audit.MinWipedFiles || !strings.Contains(f.Detail, "explicit removal") {
				t.Fatalf("after %s: CACHE_WIPED %+v", how, f)
			}
			t.Logf("%s: %s", how, f.Detail)
			// Made again (go makes the shards), and counted on.
			watchEvent(t, d, 0, watchWatching, "", 10*time.Second)
			build(t, env, src)
			counted(t, d, "the build after the wipe", func(c Counters) bool { return c.Misses > first.Misses+50 })
			if how != "rm -rf" {
				return
			}
			// A wipe while no daemon runs: the audit compares with the
			// status it saved.
			d.stop()
			<-d.exited
			d.exited <- 0
			testenv.RemoveAll(t, cache)
			testenv.GoCacheRoot(t, dir)
			build(t, env, src)
			rep := audit.Run(context.Background(), audit.Request{Config: cfg, Environ: env, StateDir: state})
			var seen *audit.Finding
			for _, f := range rep.Findings {
				if f.Code == audit.CacheWiped {
					seen = &f
				}
			}
			if seen == nil || !strings.Contains(seen.Detail, "made anew") {
				t.Fatalf("the audit after a wipe while no daemon ran: %+v", rep.Findings)
			}
		})
	}
}

// TestStatsZeroAndMetrics: --zero starts the totals again, and the
// metrics carry the counters.
func TestStatsZeroAndMetrics(t *testing.T) {
	testenv.Command(t, "go")
	dir := testenv.Dir(t)
	env := testenv.GoEnv(dir)
	cache := testenv.GoCacheRoot(t, dir)
	src := testenv.StdModule(t, dir, "z", "encoding/json")
	cfg := quiet(buildTarget(cache, 1<<40, time.Hour))
	cfg.Daemon.MetricsDir = filepath.Join(dir, "metrics")
	os.MkdirAll(cfg.Daemon.MetricsDir, 0o755)
	d := runDaemon(t, cfg)
	watchEvent(t, d, 0, watchWatching, "", 10*time.Second)
	build(t, env, src)
	counted(t, d, "build", func(c Counters) bool { return c.Misses > 50 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Ask(ctx, d.socket, Request{Command: "zero"}); err != nil {
		t.Fatal(err)
	}
	ts := counted(t, d, "zero", func(c Counters) bool { return c.Misses == 0 && c.Hits == 0 })
	if ts.Stats.LastHour.Misses < 50 {
		t.Errorf("--zero emptied the last hour too: %+v", ts.Stats.LastHour)
	}
	build(t, env, src)
	counted(t, d, "hits after zero", func(c Counters) bool { return c.Hits > 50 })
	if _, err := Ask(ctx, d.socket, Request{Command: "audit"}); err != nil {
		t.Fatal(err)
	}
	// The file is written after the answer: wait for the audit's figures.
	var data []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		data, _ = os.ReadFile(filepath.Join(cfg.Daemon.MetricsDir, "gomaint.prom"))
		if strings.Contains(string(data), "gomaint_cache_oldest_entry_age_seconds") &&
			!strings.Contains(string(data), `gomaint_cache_hits_total{target="build",kind="build"} 0`) {
			break
		}
	}
	for _, want := range []string{`gomaint_cache_hits_total{target="build",kind="build"} `, `gomaint_cache_misses_total{target="build",kind="build"} `,
		`gomaint_cache_oldest_entry_age_seconds{target="build",kind="build"} `, `gomaint_cache_counts_partial{target="build",kind="build"} 0`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("gomaint.prom has no %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), `gomaint_cache_hits_total{target="build",kind="build"} 0`) {
		t.Errorf("no hits in gomaint.prom:\n%s", data)
	}
}
