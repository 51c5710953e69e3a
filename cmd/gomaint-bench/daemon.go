package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/daemon"
)

// The -daemon mode: the footprint of `gomaint serve` (issue 5's proof).
// It generates a build cache of 100,000 entries and a module cache of
// 100,000 files, starts the real binary on them as systemd would (a
// unixgram NOTIFY_SOCKET that we read), waits for READY=1 and for the end
// of the first audit, then leaves it idle for 60 s and reads its CPU time,
// peak RSS, threads and context switches from /proc. WATCHDOG_USEC is set
// as the shipped units set it, so the watchdog pings are part of the idle
// cost. Then it asks for one more audit on the control socket (its CPU
// time is what each scheduled audit costs; its peak counts for the RSS
// target too) and, after reloading with a limit just above the build
// cache's size, writes build entries into it for as long as the idle
// window (writes.go: what the daemon writes idle, per audit and while it
// trims), and ends with SIGTERM, which must stop the daemon with exit 0
// within 5 s.
//
// The build cache gets a max_size well above its size, so the daemon
// watches it with inotify (as it would in production) but never trims it;
// the module cache has no limit, as module caches are only rescanned on
// schedule. The [daemon] table keeps the default schedules.
//
// -quick: 10,000 entries and files, 5 s idle; the targets are not checked,
// only that the daemon starts, becomes ready, audits and stops cleanly.

// Targets of the footprint, from issue 5.
const (
	targetIdleCPU      = 0.1  // percent of one core, over the idle window
	targetDaemonRSSMiB = 25.0 // peak RSS (VmHWM) after start-up, first audit and idle
	targetStop         = 5 * time.Second
	daemonEntries      = 100_000 // build cache entries, and module cache files
	daemonIdle         = 60 * time.Second
	daemonQuickEntries = 10_000
	daemonQuickIdle    = 5 * time.Second
	modFilesPerModule  = 240                // a little under modCache's mean, so that n files come out at least n or so
	daemonAge          = 3 * 24 * time.Hour // entries are at least this old
	clockTicks         = 100                // USER_HZ: /proc's CPU times are in 1/100 s on Linux
	daemonReadyWithin  = 60 * time.Second
	daemonAuditWithin  = 5 * time.Minute
	daemonSettle       = time.Second // after the first audit's STATUS, for its state file to be written
	daemonIdleAttempts = 3           // idle windows tried when a scheduled job runs inside one
	// watchdogUsec is what WatchdogSec=60s in units/gomaint.service gives
	// the daemon: it pings WATCHDOG=1 every 30 s, part of its idle cost.
	watchdogUsec        = "60000000"
	inotifyWatchesBuild = 257 // the build cache's root and its 256 shards
)

// daemonRun is one -daemon run.
type daemonRun struct {
	b       *bench
	bld     string
	mod     string
	bldT    *tally
	modT    *tally
	bldDisk int64
	limit   int64
	cfg     string
	idle    time.Duration

	ready, audited      time.Duration // from start
	auditStatus         string
	afterAudit          procSample
	win                 idleWindow
	instances, wds      int
	fds                 int
	stopIn              time.Duration
	stopCode            int
	stopped             bool // within targetStop
	sawStopping         bool
	filesAfter          int64
	cleaned             []string      // notices that speak of a clean
	auditCPU, auditWall time.Duration // of an audit asked for after the idle window
	afterSecond         procSample
	findings            string        // in the status the daemon saved
	rescanCPU           time.Duration // one rescan of the build cache, as the safety net runs it
	rescanWall          time.Duration
	counting            []countStep // the counting load (counting.go)
	stderr              string      // the daemon's, shown when something failed
	// What the daemon wrote (writes.go): idle, per hour; one audit; an
	// hour of the default schedules; building, per hour, with its trims.
	idleIO, auditIO, idleHourIO, buildIO ioSpan
	buildTrims                           int
}

func runDaemon(ctx context.Context, o *options) int {
	b, err := newBench(ctx, o)
	if err != nil {
		return setupErr(err)
	}
	defer b.cleanup()

	r := &daemonRun{b: b, idle: daemonIdle}
	n := daemonEntries
	if o.quick {
		n, r.idle = daemonQuickEntries, daemonQuickIdle
	}
	if err := r.generate(ctx, n); err != nil {
		return setupErr(err)
	}
	if err := r.writeConfig(); err != nil {
		return setupErr(err)
	}
	fails, err := r.serve(ctx)
	if err != nil {
		return setupErr(err)
	}
	if r.rescanCPU, r.rescanWall, err = rescanCost(r.bld); err != nil {
		return setupErr(err)
	}
	r.findings = savedFindings(filepath.Join(b.work, "serve", "state", "gomaint", "status.json"))
	return r.report(fails)
}

// savedFindings lists the finding codes in the status the daemon saved.
func savedFindings(file string) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Sprintf("(no saved status: %v)", err)
	}
	var st struct {
		Targets []struct {
			Findings []struct {
				Code     string `json:"code"`
				Severity string `json:"severity"`
				Cache    string `json:"cache"`
			} `json:"findings"`
		} `json:"targets"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Sprintf("(%s: %v)", file, err)
	}
	var codes []string
	for _, t := range st.Targets {
		for _, f := range t.Findings {
			codes = append(codes, fmt.Sprintf("%s %s [%s]", f.Severity, f.Code, f.Cache))
		}
	}
	if len(codes) == 0 {
		return "none"
	}
	return strings.Join(codes, ", ")
}

// generate makes both caches, aged: every mtime at least daemonAge old.
func (r *daemonRun) generate(ctx context.Context, n int) error {
	b := r.b
	trees := filepath.Join(b.work, "trees")
	if err := os.Mkdir(trees, 0o755); err != nil {
		return err
	}
	r.bld, r.mod = filepath.Join(trees, "gocache"), filepath.Join(trees, "modcache")
	then := b.now.Add(-daemonAge)
	start := time.Now()
	var err error
	if r.bldT, err = buildCache(ctx, r.bld, n, false, b.o.workers, then); err != nil {
		return fmt.Errorf("generating the build cache: %v", err)
	}
	if r.modT, err = modCache(ctx, r.mod, (n+modFilesPerModule-1)/modFilesPerModule, b.o.workers, then); err != nil {
		return fmt.Errorf("generating the module cache: %v", err)
	}
	if r.bldDisk, err = diskUsage(r.bld); err != nil {
		return err
	}
	fmt.Printf("generated both caches in %.1fs, entries aged %d to %d days:\n", time.Since(start).Seconds(),
		daemonAge/(24*time.Hour), (daemonAge+window)/(24*time.Hour))
	fmt.Printf("  build cache   %s entries, %s files, %s dirs, %.1f MiB on disk (outputs sparse)\n",
		commas(r.bldT.units.Load()), commas(r.bldT.files.Load()), commas(r.bldT.dirs.Load()), float64(r.bldDisk)/(1<<20))
	fmt.Printf("  module cache  %s files, %s dirs, %s module versions\n",
		commas(r.modT.files.Load()), commas(r.modT.dirs.Load()), commas(r.modT.units.Load()))
	return nil
}

// writeConfig writes the daemon's configuration: the build cache with a
// limit it is far below (watched, never trimmed), the module cache, and
// the default schedules with watching on; metrics in the serve directory.
func (r *daemonRun) writeConfig() error {
	r.limit = 2*r.bldDisk + 64<<20
	return r.writeConfigLimit(r.limit, 0)
}

// writeConfigLimit writes it with the build cache's max_size and
// low_water (0: the default).
func (r *daemonRun) writeConfigLimit(limit, lowWater int64) error {
	r.cfg = filepath.Join(r.b.work, "daemon.toml")
	d, iv := config.Default(config.User).Daemon, daemon.DefaultIntervals()
	sched := func(s string) string {
		if s == "" {
			return "none"
		}
		return s
	}
	comment := fmt.Sprintf("gomaint-bench -daemon: the default schedules (audit %s, which also reconciles\n"+
		"the watched total; rescan %s; clean %s; jitter up to %s), and the build cache\n"+
		"watched with inotify, which the daemon also rescans every %s as a safety net.",
		sched(d.AuditSchedule), sched(d.RescanSchedule), sched(d.CleanSchedule), time.Duration(d.Jitter), iv.SafetyNet)
	return writeConfig(r.cfg, comment, configFile{
		Daemon: &daemonTable{Watch: true, MetricsDir: r.metricsDir()},
		Targets: []target{
			{Name: "build", Kind: "build", Path: r.bld, MaxSize: limit, LowWater: lowWater},
			{Name: "mod", Kind: "mod", Path: r.mod},
		},
	})
}

func (r *daemonRun) metricsDir() string { return filepath.Join(r.b.work, "serve", "metrics") }
