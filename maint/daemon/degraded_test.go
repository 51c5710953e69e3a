package daemon

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/testenv"
	"github.com/gomaint/gomaint/maint/watch"
)

// TestLifecycleDegraded (issue 12 item 8): with the inotify limits run
// out, the watch goes degraded, says so (journal, status, finding,
// metric), and the limit still holds by rescans; raised again, the watch
// is whole again. The limits are lowered in a user namespace of the
// test's own (its /proc/sys/user/max_inotify_*), so the machine is
// untouched: the test runs itself again in one.
func TestLifecycleDegraded(t *testing.T) {
	if lim := os.Getenv("GOMAINT_TEST_INOTIFY_LIMIT"); lim != "" {
		degradedInNamespace(t, lim)
		return
	}
	for _, c := range []struct{ name, limit string }{
		{"watches", "max_inotify_watches=40"},
		{"instances", "max_inotify_instances=0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestLifecycleDegraded$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "GOMAINT_TEST_INOTIFY_LIMIT="+c.limit)
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER,
				UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
				GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}}
			out, err := cmd.CombinedOutput()
			if err != nil && cmd.Process == nil {
				testenv.Need(t, false, "user namespaces: "+err.Error())
			}
			if err != nil || !strings.Contains(string(out), "--- PASS: TestLifecycleDegraded") {
				t.Errorf("in a user namespace with %s: %v\n%s", c.limit, err, out)
			}
		})
	}
}

func degradedInNamespace(t *testing.T, lim string) {
	name, value, _ := strings.Cut(lim, "=")
	sysctl := "fs.inotify.max_user_" + strings.TrimPrefix(name, "max_inotify_")
	if err := os.WriteFile("/proc/sys/user/"+name, []byte(value), 0); err != nil {
		t.Fatalf("lower %s in the user namespace: %v", name, err)
	}
	const limit = 4 << 20
	cache := filepath.Join(t.TempDir(), "go-build")
	testenv.BuildCache(t, cache, 4, 1000, time.Hour)
	cfg := quiet(buildTarget(cache, limit, time.Millisecond))
	cfg.Daemon.MetricsDir = t.TempDir()
	d := runDaemon(t, cfg, func(o *Options) { o.Intervals = Intervals{Degraded: time.Second} })

	var ev journal.Event
	deadline := time.Now().Add(10 * time.Second)
	for ev.Type != journal.Watch {
		for _, e := range d.events.Snapshot() {
			if e.Type == journal.Watch && e.Fields["GOMAINT_WATCH_STATE"] == "degraded" {
				ev = e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no degraded watch event with %s", lim)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ev.Fields["GOMAINT_LIMIT"] != sysctl || !strings.Contains(ev.Fields["GOMAINT_FIX"], "sysctl -w "+sysctl) || ev.Priority != journal.Warning {
		t.Errorf("the degraded event does not say which limit and how to raise it: %+v", ev)
	}
	st := status(t, d)
	if st.Targets[0].Watch != "degraded" || !strings.Contains(st.StatusLine(), "degraded") {
		t.Errorf("status: watch %q, line %q; want degraded", st.Targets[0].Watch, st.StatusLine())
	}
	found := false
	for _, f := range st.Targets[0].Findings {
		found = found || (f.Code == watchDegradedCode && strings.Contains(f.Fix, sysctl))
	}
	if !found {
		t.Errorf("no WATCH_DEGRADED finding naming %s: %+v", sysctl, st.Targets[0].Findings)
	}
	awaitMetric(t, cfg.Daemon.MetricsDir, `gomaint_watch_up{target="build",kind="build"} 0`)
	// Its counts say they are partial, never silently low (issue 16).
	if s := st.Targets[0].Stats; s == nil || !s.Counted || !strings.Contains(s.Partial, "degraded") {
		t.Errorf("a degraded watch's counts: %+v, want partial", s)
	}
	awaitMetric(t, cfg.Daemon.MetricsDir, `gomaint_cache_counts_partial{target="build",kind="build"} 1`)

	// Growth only in shards 80..ff, which a watch with 40 watches (root
	// and 00..26) lacks: the rescans trim it.
	start := time.Now()
	growUnwatched(t, cache, 16<<20)
	for diskUsage(t, cache) > limit {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("degraded: %d bytes 10s after the growth, over the limit %d", diskUsage(t, cache), limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("degraded: under the limit %s after growing past it", time.Since(start).Round(time.Millisecond))
	// The trim removed files in shards the watch lacks, which its count
	// never had: the count is taken again, never left negative.
	for st = status(t, d); st.Targets[0].Files <= 0; st = status(t, d) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("degraded: %d files in the status after the trim; find counts them", st.Targets[0].Files)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The limit raised: whole again.
	if err := os.WriteFile("/proc/sys/user/"+name, []byte("100000"), 0); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for st = status(t, d); st.Targets[0].Watch != "watching"; st = status(t, d) {
		if time.Now().After(deadline) {
			t.Fatalf("the limit raised, the watch is still %q", st.Targets[0].Watch)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, f := range st.Targets[0].Findings {
		if f.Code == watchDegradedCode {
			t.Errorf("WATCH_DEGRADED stays once every shard is watched")
		}
	}
	awaitMetric(t, cfg.Daemon.MetricsDir, `gomaint_watch_up{target="build",kind="build"} 1`)
}

func status(t *testing.T, d *inProcess) *Status {
	t.Helper()
	resp, err := Ask(context.Background(), d.socket, Request{Command: "status"})
	if err != nil || resp.Status == nil || len(resp.Status.Targets) != 1 {
		t.Fatalf("status: %v %+v", err, resp)
	}
	return resp.Status
}

// awaitMetric waits for a sample line in the daemon's textfile, which is
// written after every job.
func awaitMetric(t *testing.T, dir, line string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(filepath.Join(dir, "gomaint.prom"))
		if strings.Contains(string(data), line+"\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in gomaint.prom:\n%s", line, data)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// growUnwatched writes about n bytes of entries into shards 80..ff, with
// the names and sizes go gives them.
func growUnwatched(t *testing.T, cache string, n int) {
	t.Helper()
	out := make([]byte, 64<<10)
	for i := 0; i*(len(out)+175) < n; i++ {
		h := fmt.Sprintf("%02x%062x", 0x80+i%128, i)
		for _, e := range []struct {
			suffix string
			size   int
		}{{"-d", len(out)}, {"-a", 175}} {
			if err := os.WriteFile(filepath.Join(cache, h[:2], h+e.suffix), out[:e.size], 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestDegradedFindingDeclared: the daemon's own finding has a severity
// its declaration allows, which is all the metrics have zero samples for.
func TestDegradedFindingDeclared(t *testing.T) {
	d := &daemon{iv: Intervals{Degraded: time.Minute}}
	ts := &tstate{rt: target.Resolved{Target: config.Target{Name: "build"}, Path: "/c"}}
	for _, lim := range []*watch.LimitError{nil, {Limit: "fs.inotify.max_user_watches", Raise: "sysctl -w fs.inotify.max_user_watches=524288"}} {
		if f := d.degradedFinding(ts, "limit", lim); !f.Code.Allows(f.Severity) {
			t.Errorf("%s with severity %s, outside its declaration %+v", f.Code, f.Severity, f.Code.Decl())
		}
	}
}
