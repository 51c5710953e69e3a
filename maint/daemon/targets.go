package daemon

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/lock"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/watch"
)

// tstate is one target as the daemon follows it.
type tstate struct {
	rt    target.Resolved
	root  *safefs.Root  // open while watched; loop only
	ended chan struct{} // closed when the watch's Run returns
	// watch is read by the worker and socket goroutines too.
	watch atomic.Pointer[watch.Build]

	// overQueued and rescanQueued keep at most one alarm of each kind in
	// flight from the watch's goroutine to the loop.
	overQueued, rescanQueued atomic.Bool
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

func lockDir(scope config.Scope, getenv func(string) string) string {
	return lock.Dir(scope == config.System, getenv)
}

// apply makes cfg the configuration: targets (keeping the figures of
// targets that stay), watches and schedules.
func (d *daemon) apply(cfg *config.Config, env discover.Env, gr goroot.Result, resolved []target.Resolved) {
	d.mu.Lock()
	old := map[string]TargetStatus{}
	for _, t := range d.targets {
		old[t.rt.Name] = t.status
	}
	d.cfg, d.env = cfg, env
	d.targets = nil
	for _, rt := range resolved {
		t := &tstate{rt: rt}
		t.status = old[rt.Name]
		t.status.Name, t.status.Kind, t.status.Path, t.status.Group = rt.Name, string(rt.Kind), rt.Path, rt.Group
		t.status.LimitBytes = int64(rt.MaxSize)
		d.targets = append(d.targets, t)
	}
	d.status.Config = configName(cfg)
	d.status.GOROOT, d.status.GOROOTRequired = gr, cfg.GOROOT.Required
	d.mu.Unlock()
	for _, t := range d.targets {
		d.startWatch(t)
	}
	d.scheds = newSchedules(cfg.Daemon, time.Now())
	d.planned()
}

// startWatch follows a build cache that has a limit to keep, or whose
// use must be recorded for its users (shared mode).
func (d *daemon) startWatch(t *tstate) {
	rt := t.rt
	if rt.Kind != config.Build || !d.cfg.Daemon.Watch || (rt.MaxSize == 0 && !rt.Shared()) ||
		rt.Path == "" || rt.Disabled || rt.Unresolved || t.watch.Load() != nil {
		return
	}
	root, err := safefs.OpenRoot(rt.Path)
	if err != nil {
		return // not created yet: the next rescan tries again
	}
	w, err := watch.Open(root, watch.Options{
		Limit:    int64(rt.MaxSize),
		TrackUse: rt.Shared(),
		Over:     func() { raise(d.over, t, &t.overQueued) },
		Overflow: func() { raise(d.rescan, t, &t.rescanQueued) },
	})
	if err != nil {
		root.Close()
		d.mu.Lock()
		t.status.Error = fmt.Sprintf("cannot watch: %v", err)
		d.mu.Unlock()
		return
	}
	t.root, t.ended = root, make(chan struct{})
	t.watch.Store(w)
	d.mu.Lock()
	t.status.Watched = true
	d.mu.Unlock()
	go func() {
		defer close(t.ended)
		if err := w.Run(); err != nil {
			journal.Emit(d.opt.Sink, journal.Event{Type: journal.Rescan, Priority: journal.Warning,
				Message: fmt.Sprintf("stopped watching %s: %v; the next scheduled rescan looks again", rt.Path, err),
				Fields:  map[string]string{"GOMAINT_TARGET": rt.Name, "GOMAINT_CACHE_KIND": string(rt.Kind), "GOMAINT_CACHE_PATH": rt.Path, "GOMAINT_REASON": err.Error()}})
		}
	}()
}

// stopWatch ends a target's watch and waits for its goroutine.
func (d *daemon) stopWatch(t *tstate) {
	w := t.watch.Swap(nil)
	if w == nil {
		return
	}
	w.Close()
	<-t.ended
	t.root.Close()
	t.root = nil
	d.mu.Lock()
	t.status.Watched = false
	d.mu.Unlock()
}

func (d *daemon) closeTargets() {
	for _, t := range d.targets {
		d.stopWatch(t)
	}
}

func (d *daemon) find(name string) *tstate { return d.findIn(d.targets, name) }

// measure counts a cache exactly: disk bytes of every entry, the root
// included, and regular files; and its file system's free space.
func measure(path string) (bytes, files, freeBytes, freeInodes int64, err error) {
	fd, root, err := scan.OpenRoot(path)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer closeFD(fd)
	t, err := scan.Subtree(fd, ".", root.Mount)
	fs := scan.DescribeFS(root)
	return t.DiskBytes, t.Files, fs.FreeBytes, fs.FreeInodes, err
}
