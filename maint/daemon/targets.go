package daemon

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/watch"
)

// tstate is one target as the daemon follows it.
type tstate struct {
	rt     target.Resolved
	root   *safefs.Root  // open while watched; loop only
	rootID unix.Stat_t   // of root, to tell when the path names another directory
	ended  chan struct{} // closed when the watch's Run returns
	endErr error         // what Run returned; read after ended
	// watch is read by the worker and socket goroutines too.
	watch atomic.Pointer[watch.Build]

	// The watch lifecycle (lifecycle.go; loop only): the state, when to
	// look at the path next, and when to rescan next.
	wstate               string
	nextPoll, nextRescan time.Time

	// overQueued, rescanQueued, goneQueued and degradeQueued keep at most
	// one alarm of each kind in flight from the watch's goroutine to the
	// loop.
	overQueued, rescanQueued, goneQueued, degradeQueued, wipedQueued atomic.Bool
	// seenBytes, seenFiles and seenAt: the cache's size when last known
	// whole, what a wipe loses (guarded by daemon.mu).
	seenBytes, seenFiles int64
	seenAt               time.Time
	// recount: the rescan alarm is for a trim whose count writes raced,
	// not for an inotify queue overflow.
	recount atomic.Bool
	// retryAt: a limit trim that min_age blocked is not retried at every
	// event, but after a growing pause (loop only).
	retryAt time.Time
	backoff time.Duration

	status TargetStatus // guarded by daemon.mu
}

// raise sends an alarm for t to the loop without ever blocking the
// sender (a watch, or the worker): flag keeps one alarm per kind in flight.
func raise(ch chan *tstate, t *tstate, flag *atomic.Bool) {
	if flag.CompareAndSwap(false, true) {
		select {
		case ch <- t:
		default:
			flag.Store(false)
		}
	}
}

// apply makes cfg the configuration: targets (keeping the figures of
// targets that stay), low_io, watches and schedules.
// measure asks for a rescan of every target armed (an audit follows at
// start, a reload has none).
func (d *daemon) apply(cfg *config.Config, env discover.Env, gr goroot.Result, resolved []target.Resolved, measure bool) {
	d.mu.Lock()
	old := map[string]TargetStatus{}
	for _, t := range d.targets {
		old[t.rt.Name] = t.status
	}
	d.cfg, d.env = cfg, env
	d.alerts = d.notifier(cfg)
	d.targets = nil
	for _, rt := range resolved {
		t := &tstate{rt: rt}
		t.status = old[rt.Name]
		t.status.Name, t.status.Kind, t.status.Path, t.status.Group = rt.Name, string(rt.Kind), rt.Path, rt.Group
		t.status.LimitBytes = int64(rt.MaxSize)
		d.tallyFor(rt.Name, time.Now())
		d.targets = append(d.targets, t)
	}
	d.status.Config = configName(cfg)
	d.status.GOROOT, d.status.GOROOTRequired = gr, cfg.GOROOT.Required
	d.status.LowIO = d.lowIO(cfg, resolved)
	low := d.status.LowIO != ""
	d.mu.Unlock()
	d.iv = d.intervals(low)
	for _, t := range d.targets {
		if d.wantsWatch(t) {
			d.arm(t, measure)
		} else {
			d.setWatch(t, watchOff, "", nil)
		}
	}
	d.scheds = newSchedules(cfg.Daemon, low, time.Now())
	d.planned()
}

func (d *daemon) closeTargets() {
	for _, t := range d.targets {
		d.disarm(t)
	}
}

// resolved lists the targets as resolved.
func (d *daemon) resolved() []target.Resolved {
	out := make([]target.Resolved, 0, len(d.targets))
	for _, t := range d.targets {
		out = append(out, t.rt)
	}
	return out
}

func (d *daemon) find(name string) *tstate { return d.findIn(d.targets, name) }

// measure counts a cache exactly: disk bytes of every entry, the root
// included, and regular files; and its file system's free space.
func measure(path string) (bytes, files, freeBytes, freeInodes int64, err error) {
	bytes, files, fs, err := scan.Measure(path)
	return bytes, files, fs.FreeBytes, fs.FreeInodes, err
}
