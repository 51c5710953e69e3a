// Package daemon is `gomaint serve`: a systemd Type=notify service that
// runs audits and cleans on cron schedules, trims watched build caches as
// they grow past their limits, reloads on SIGHUP, answers a control socket,
// and writes its status and metrics after every run.
//
// One goroutine, the loop, owns all state changes: signals, schedules,
// watch alarms and control requests become jobs, and one worker runs the
// jobs one at a time through the same engine as the CLI (packages audit and
// clean): the daemon decides when a run happens (schedules, watch alarms,
// retries), never what an audit checks or a clean removes (its only
// finding of its own says that its watch is degraded). The loop never
// blocks on a job, which is what lets its WATCHDOG=1 pings mean "alive".
//
// Start-up order is the contract with systemd: configuration valid, GOROOT
// usable (when required), targets resolved, control socket listening, and
// only then READY=1. A bad configuration or GOROOT exits 78 before READY, so
// RestartPreventExitStatus=78 stops a restart loop.
package daemon

import (
	"context"
	"fmt"
	"github.com/gomaint/gomaint/maint/alert"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/target"
)

// Exit statuses of Run.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitConfig = 78 // EX_CONFIG: systemd's RestartPreventExitStatus=78
)

// Options configure a daemon.
type Options struct {
	Scope config.Scope
	// ConfigFile is an explicit configuration file; "" is the scope's default.
	ConfigFile string
	Environ    []string
	Sink       journal.Sink
	Version    string
	// Notify sends an sd_notify state; nil sends to $NOTIFY_SOCKET.
	Notify func(state string)
	// Load reads the configuration; nil uses config.Load. Tests use it to
	// set what the file format refuses, such as a min_age under an hour.
	Load func() (*config.Config, error)
	// StateDir, SocketPath and LockDir default to the scope's.
	StateDir, SocketPath, LockDir string
	// StopWithin bounds how long a stop waits for work in progress.
	StopWithin time.Duration
	// Intervals time the watch lifecycle; zero fields are the defaults
	// (low_io's when it is on).
	Intervals Intervals
	// Sysfs is where sysfs is mounted, for low_io = "auto"; "" is /sys.
	Sysfs string
}

type daemon struct {
	opt    Options
	cfg    *config.Config
	env    discover.Env
	alerts *alert.Notifier // nil without [[alert]] routes (loop only)

	mu      sync.Mutex // guards status and targets' status, read by socket goroutines
	status  Status
	targets []*tstate

	scheds  []*schedule
	jobs    chan *job // loop -> worker
	done    chan *job // worker -> loop
	over    chan *tstate
	rescan  chan *tstate
	gone    chan *tstate // a watch ended
	degrade chan *tstate // a watch lost shards to a limit
	wiped   chan *tstate // a watch saw every shard directory go
	iv      Intervals
	control chan *job
	pending []*job
	running *job
	warned  map[string]bool // guarded by mu
	sent    *countingSink   // opt.Sink, counted for the status's IO

	// tallies are the targets' counts by name, kept across reloads and
	// (in stats.json) restarts; guarded by mu.
	tallies    map[string]*tally
	statsSaved time.Time // loop only, in saveStats
	// counted: when the counts last made a publish (loop only).
	counted time.Time
}

// Run serves until ctx ends (SIGTERM, SIGINT) and returns the exit status.
func Run(ctx context.Context, opt Options) int {
	getenv := discover.EnvFrom(opt.Environ)
	if opt.Notify == nil {
		opt.Notify = func(state string) { sd.SdNotify(false, state) }
	}
	if opt.Load == nil {
		opt.Load = func() (*config.Config, error) { return alert.LoadConfig(opt.Scope, opt.ConfigFile, getenv) }
	}
	system := opt.Scope == config.System
	if opt.StateDir == "" {
		opt.StateDir = paths.StateDir(system, getenv)
	}
	if opt.SocketPath == "" {
		opt.SocketPath = paths.Socket(system, getenv)
	}
	if opt.LockDir == "" {
		opt.LockDir = paths.LockDir(system, getenv)
	}
	if opt.StopWithin == 0 {
		opt.StopWithin = 4 * time.Second
	}
	if opt.Sysfs == "" {
		opt.Sysfs = "/sys"
	}
	sent := &countingSink{Sink: opt.Sink}
	opt.Sink = sent
	d := &daemon{opt: opt, jobs: make(chan *job), done: make(chan *job), control: make(chan *job),
		over: make(chan *tstate, 64), rescan: make(chan *tstate, 64), gone: make(chan *tstate, 64), degrade: make(chan *tstate, 64),
		wiped: make(chan *tstate, 64), iv: opt.Intervals.withDefaults(), sent: sent}
	d.status = Status{PID: os.Getpid(), Version: opt.Version, Scope: opt.Scope.String(), Started: time.Now(), State: "starting",
		BootID: audit.BootID()}
	var terr error
	if d.tallies, terr = loadStats(opt.StateDir); terr != nil {
		d.warnOnce("stats", terr)
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	cfg, err := opt.Load()
	if err != nil {
		journal.ConfigRejected(opt.Sink, journal.ConfigInvalid, err)
		opt.Notify(statusNote("configuration rejected: " + firstLine(err.Error())))
		return ExitConfig
	}
	resolved, env, gr, ok := d.prepare(ctx, cfg)
	if !ok {
		opt.Notify(statusNote(gr.Code.String() + ": " + gr.Reason))
		if dir := cfg.Daemon.MetricsDir; dir != "" {
			// So that the GOROOT alert fires for a daemon that cannot start.
			d.writeMetrics(dir, metrics.Snapshot{Findings: []metrics.Finding{{Code: gr.Code.String(), Severity: gr.Severity(cfg.GOROOT.Required).String(), Count: 1}}})
		}
		d.alertGOROOT(cfg, gr)
		return ExitConfig
	}
	l, err := listen(opt.SocketPath)
	if err != nil {
		opt.Notify(statusNote(err.Error()))
		safetext.Fprintln(os.Stderr, "gomaint serve:", err)
		return ExitFailed
	}
	defer l.Close()
	d.apply(cfg, env, gr, resolved, false)
	defer d.closeTargets()

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		d.worker(workCtx)
	}()
	go d.serveControl(l)

	d.setState("ready")
	journal.Emit(opt.Sink, journal.Event{Type: journal.Ready, Priority: journal.Info,
		Message: fmt.Sprintf("daemon ready: %d targets, GOROOT %s, configuration %s", len(cfg.Targets), orNone(gr.Path), configName(cfg)),
		Fields: map[string]string{"GOMAINT_TARGETS": strconv.Itoa(len(cfg.Targets)), "GOMAINT_GOROOT": gr.Path,
			"GOMAINT_GO_VERSION": gr.Version, "GOMAINT_CONFIG_FILE": configName(cfg), "GOMAINT_SCOPE": opt.Scope.String()}})
	opt.Notify("READY=1\nSTATUS=" + d.statusLine())
	d.submit(&job{kind: jobAudit, trigger: "start"})

	var watchdog <-chan time.Time
	if iv, err := sd.SdWatchdogEnabled(false); err == nil && iv > 0 {
		t := time.NewTicker(iv / 2)
		defer t.Stop()
		watchdog = t.C
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.dispatch()
		d.resetTimer(timer)
		select {
		case <-ctx.Done():
			return d.stop(stopWork, workerDone)
		case <-hup:
			d.reload(ctx)
		case <-watchdog:
			opt.Notify("WATCHDOG=1")
		case now := <-timer.C:
			d.fire(now)
		case j := <-d.done:
			d.finished(j)
		case t := <-d.over:
			t.overQueued.Store(false)
			if t.retryAt.IsZero() { // else the retry comes by the timer
				d.submit(&job{kind: jobClean, target: t.rt.Name, trigger: "limit"})
			}
		case t := <-d.rescan:
			t.rescanQueued.Store(false)
			trigger := "overflow"
			if t.recount.Swap(false) {
				trigger = "recount"
			}
			d.submit(&job{kind: jobRescan, target: t.rt.Name, trigger: trigger})
		case t := <-d.gone:
			d.ended(t)
		case t := <-d.degrade:
			d.degraded(t)
		case t := <-d.wiped:
			t.wipedQueued.Store(false)
			if t.watch.Load() != nil {
				d.sawWipe(t, "every shard directory was removed (go clean -cache, or rm -rf)")
			}
		case j := <-d.control:
			d.submit(j)
		}
	}
}

// prepare checks what must hold before READY: GOROOT usable when required.
func (d *daemon) prepare(ctx context.Context, cfg *config.Config) ([]target.Resolved, discover.Env, goroot.Result, bool) {
	resolved, env := target.Resolve(ctx, cfg, d.opt.Environ)
	gr := audit.CheckGOROOT(ctx, cfg, d.opt.Environ, env)
	if !gr.OK && cfg.GOROOT.Required {
		goroot.Emit(d.opt.Sink, gr)
		return nil, env, gr, false
	}
	return resolved, env, gr, true
}

// reload re-reads the configuration on SIGHUP. A rejected file, or one
// whose GOROOT fails, leaves everything as it was.
func (d *daemon) reload(ctx context.Context) {
	d.setState("reloading")
	d.opt.Notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d\nSTATUS=reloading configuration", monotonicUsec()))
	defer func() {
		d.setState("ready")
		d.opt.Notify("READY=1\nSTATUS=" + d.statusLine())
	}()
	cfg, err := d.opt.Load()
	if err != nil {
		journal.ConfigRejected(d.opt.Sink, journal.ReloadFailed, err)
		return
	}
	resolved, env, gr, ok := d.prepare(ctx, cfg)
	if !ok {
		journal.ConfigRejected(d.opt.Sink, journal.ReloadFailed, fmt.Errorf("%s: %s: %s", configName(cfg), gr.Code, gr.Reason))
		return
	}
	d.closeTargets()
	d.apply(cfg, env, gr, resolved, true)
	journal.Emit(d.opt.Sink, journal.Event{Type: journal.Reloaded, Priority: journal.Info,
		Message: fmt.Sprintf("configuration reloaded from %s: %d targets", configName(cfg), len(cfg.Targets)),
		Fields:  map[string]string{"GOMAINT_CONFIG_FILE": configName(cfg), "GOMAINT_TARGETS": strconv.Itoa(len(cfg.Targets))}})
}

// stop ends the daemon: STOPPING=1, work in progress told to stop between
// two files, and a bounded wait for it.
func (d *daemon) stop(stopWork func(), workerDone <-chan struct{}) int {
	d.setState("stopping")
	d.opt.Notify("STOPPING=1\nSTATUS=stopping")
	journal.Emit(d.opt.Sink, journal.Event{Type: journal.Stopping, Priority: journal.Info,
		Message: "stopping", Fields: map[string]string{"GOMAINT_SIGNAL": "SIGTERM or SIGINT"}})
	stopWork()
	select {
	case <-workerDone:
	case <-time.After(d.opt.StopWithin):
	}
	d.publish()
	d.saveStats(true)
	return ExitOK
}

func (d *daemon) setState(s string) {
	d.mu.Lock()
	d.status.State = s
	d.mu.Unlock()
}

func monotonicUsec() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano() / 1000
}

func configName(cfg *config.Config) string {
	if cfg.File == "" {
		return "(built-in defaults)"
	}
	return cfg.File
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
