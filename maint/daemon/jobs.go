package daemon

import (
	"context"
	"fmt"
	"path"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/clean"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/trim"
	"github.com/gomaint/gomaint/maint/verify"
)

// Job kinds.
const (
	jobAudit  = "audit"
	jobClean  = "clean"
	jobRescan = "rescan"
	jobZero   = "zero" // gomaint stats --zero
)

// job is one run of the engine. Jobs with the same kind and target that
// wait together are merged, so a storm of alarms or requests queues at
// most one run behind the one in progress.
type job struct {
	kind    string
	target  string // "" for every target
	trigger string // start, schedule, limit, control; rescans: overflow, recount, watch, degraded, safety-net, wiped
	replies []chan Response

	// Set for the worker by the loop: the configuration and targets the
	// job runs with, so a reload never changes a job in the middle.
	cfg     *config.Config
	targets []*tstate

	resp Response
}

func (j *job) key() string { return j.kind + "/" + j.target }

// submit queues j unless an equal job already waits. A scheduled run
// while an equal one is in progress is dropped: schedules never pile up.
func (d *daemon) submit(j *job) {
	for _, p := range d.pending {
		if p.key() == j.key() {
			p.replies = append(p.replies, j.replies...)
			return
		}
	}
	if j.trigger == "schedule" && d.running != nil && d.running.key() == j.key() {
		return
	}
	if j.target != "" && d.find(j.target) == nil {
		for _, r := range j.replies {
			r <- Response{Error: fmt.Sprintf("no target named %q", j.target)}
		}
		return
	}
	d.pending = append(d.pending, j)
}

// dispatch hands the next job to the worker when it is idle.
func (d *daemon) dispatch() {
	if d.running != nil || len(d.pending) == 0 {
		return
	}
	j := d.pending[0]
	d.pending = d.pending[1:]
	j.cfg = d.cfg
	for _, t := range d.targets {
		if j.target == "" || t.rt.Name == j.target {
			j.targets = append(j.targets, t)
		}
	}
	d.running = j
	d.mu.Lock()
	d.status.Running, d.status.runningTarget = runningLine(j), j.target
	d.mu.Unlock()
	d.opt.Notify(statusNote(d.statusLine()))
	d.jobs <- j
}

func runningLine(j *job) string {
	what := "all targets"
	if j.target != "" {
		what = j.target
	}
	return fmt.Sprintf("running %s of %s (%s)", j.kind, what, j.trigger)
}

// finished records a job's end: answers, status line, state file, metrics.
func (d *daemon) finished(j *job) {
	d.running = nil
	for _, r := range j.replies {
		r <- j.resp
	}
	if j.kind == jobClean && j.trigger == "limit" {
		for _, t := range j.targets {
			d.backoffAfter(t, j.resp.Outcomes)
		}
	}
	d.mu.Lock()
	d.status.Running, d.status.runningTarget = "", ""
	d.mu.Unlock()
	d.publish()
}

// backoffAfter: a limit trim that could not reach the limit (min_age, or
// locks held by go) is retried after 1s, 2s, 4s ... up to 10 minutes
// rather than at every new entry; and no later than min_age, when what
// was too young to go may have aged enough.
func (d *daemon) backoffAfter(t *tstate, outs []clean.Outcome) {
	for _, o := range outs {
		if o.Target != t.rt.Name {
			continue
		}
		if o.OK() {
			t.backoff, t.retryAt = 0, time.Time{}
			return
		}
		t.backoff = min(max(2*t.backoff, time.Second), 10*time.Minute)
		t.retryAt = time.Now().Add(min(t.backoff, time.Duration(t.rt.MinAge)))
	}
}

// worker runs jobs one at a time until ctx ends.
func (d *daemon) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-d.jobs:
			d.exec(ctx, j)
			select {
			case d.done <- j:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (d *daemon) exec(ctx context.Context, j *job) {
	switch j.kind {
	case jobAudit:
		d.runAudit(ctx, j)
	case jobClean:
		d.runClean(ctx, j)
	case jobRescan:
		d.runRescan(ctx, j)
	case jobVerify, jobVerifyFull:
		d.runVerify(ctx, j)
	case jobZero:
		d.zero(j)
	}
}

func (d *daemon) runAudit(ctx context.Context, j *job) {
	cfg := *j.cfg
	cfg.Targets = nil
	est := map[string]int64{}
	for _, t := range j.targets {
		cfg.Targets = append(cfg.Targets, t.rt.Target)
		if w := t.watch.Load(); w != nil {
			est[t.rt.Name], _ = w.Estimate()
		}
	}
	rep := audit.Run(ctx, audit.Request{Config: &cfg, Environ: d.opt.Environ, Sink: d.opt.Sink, StateDir: d.opt.StateDir})
	if ctx.Err() != nil {
		return
	}
	j.resp.Findings = rep.Findings
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status.GOROOT = rep.GOROOT
	for _, t := range j.targets {
		t.status.LastAudit = now
		if rid, ok := audit.RootOf(unix.AT_FDCWD, t.rt.Path); ok && t.rt.Path != "" {
			t.status.Root = &rid
		}
		// The daemon's own finding stays until the watch is whole again,
		// verification's until the next verification.
		var own []audit.Finding
		for _, f := range t.status.Findings {
			if f.Code == watchDegradedCode || verify.Reports(f.Code) {
				own = append(own, f)
			}
		}
		t.status.Findings = own
		tl := d.tallyFor(t.rt.Name, now)
		for _, f := range rep.Findings {
			switch {
			case f.Cache != t.rt.Name:
			case f.Code == audit.CacheWiped:
				// Seen from the saved status: the daemon keeps it from now
				// on, unless it saw this wipe itself.
				if tl.Wipe == nil || now.Sub(tl.WipeAt) >= wipeShown {
					tl.Wipe, tl.WipeAt, tl.dirty = &f, now, true
				}
			default:
				t.status.Findings = append(t.status.Findings, f)
			}
		}
		d.refreshOwn(t, now) // the audit journaled its own findings
		for _, c := range rep.Caches {
			if c.Name != t.rt.Name || c.Facts == nil {
				continue
			}
			t.status.DiskBytes, t.status.Files = c.DiskBytes, c.Files
			t.status.FSFreeBytes, t.status.FSFreeInodes = c.FS.FreeBytes, c.FS.FreeInodes
			t.status.OldestEntryUnix = c.Facts.OldestEntryUnix
			t.measured(c.DiskBytes, c.Files, now)
			if w := t.watch.Load(); w != nil {
				w.Adjust(c.DiskBytes - est[t.rt.Name])
				w.SetFiles(c.Files)
			}
			// The audit measured exactly: it enforces limits as a rescan
			// would, so an hourly audit needs no rescan beside it.
			if t.rt.MaxSize > 0 && c.DiskBytes > int64(t.rt.MaxSize) {
				raise(d.over, t, &t.overQueued)
			}
		}
	}
}

func (d *daemon) runClean(ctx context.Context, j *job) {
	var resolved []target.Resolved
	est, estFiles := map[string]int64{}, map[string]int64{}
	for _, t := range j.targets {
		resolved = append(resolved, current(t.rt))
		if w := t.watch.Load(); w != nil {
			est[t.rt.Name], estFiles[t.rt.Name] = w.Estimate()
		}
	}
	req := clean.Request{Config: j.cfg, Environ: d.opt.Environ, Sink: d.opt.Sink, Resolved: resolved,
		LockDir: d.opt.LockDir, NoWait: j.trigger == "limit", Trigger: j.trigger, Removed: d.evicted(j.targets)}
	j.resp.Outcomes = clean.Run(ctx, req)
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range j.resp.Outcomes {
		t := d.findIn(j.targets, o.Target)
		if t == nil {
			continue
		}
		t.status.LastClean = now
		if o.Result == nil {
			t.status.LastCleanResult = "failed: " + o.Error
			continue
		}
		r := o.Result
		t.status.TrimFreedTotal += r.FreedBytes
		if r.Units > 0 || r.Versions > 0 {
			d.tallyFor(t.rt.Name, now).add(now, Counters{Trims: 1, EvictedBytes: r.FreedBytes})
		}
		t.measured(r.DiskBytesAfter, max(t.seenFiles-r.Files, 0), now)
		t.status.DiskBytes = r.DiskBytesAfter
		t.status.LastCleanResult = fmt.Sprintf("removed %s in %d files", config.FormatSize(r.FreedBytes), r.Files)
		if r.Blocked != "" {
			t.status.LastCleanResult += "; limit not reached: " + r.Blocked
		}
		if o.OK() {
			t.status.LastCleanSuccess = now
		}
		if w := t.watch.Load(); w != nil {
			// What the trim measured replaces what the estimate assumed
			// when it started; writes since then stay counted. Files need
			// no correction: the watch took each removal off as its
			// IN_DELETE came, and never counted a shard it lacks.
			w.Adjust(r.DiskBytesBefore - est[t.rt.Name] - r.FreedBytes)
		}
		if r.DiskBytesAfter < 0 || r.Files > estFiles[t.rt.Name] {
			// Writes raced the trim's count (it freed entries it had not
			// counted), or it removed files the estimate never saw (shards
			// a degraded watch lacks): its figures are no measure, so
			// count again rather than trust an estimate that now errs low.
			t.status.DiskBytes = max(t.status.DiskBytes, 0)
			t.recount.Store(true)
			raise(d.rescan, t, &t.rescanQueued)
		}
	}
}

// runRescan counts caches exactly: it reconciles the watched estimates,
// enforces the limits of caches that are not watched (module caches),
// and starts watches that could not start before.
func (d *daemon) runRescan(ctx context.Context, j *job) {
	for _, t := range j.targets {
		if ctx.Err() != nil {
			return
		}
		rt := t.rt
		if rt.Path == "" || rt.Disabled || rt.Unresolved {
			continue
		}
		var before int64
		w := t.watch.Load()
		if w != nil {
			before, _ = w.Estimate()
		}
		bytes, files, freeB, freeI, err := measure(rt.Path)
		if err != nil {
			d.mu.Lock()
			t.status.Error = err.Error()
			d.mu.Unlock()
			continue
		}
		if w != nil {
			w.Adjust(bytes - before)
			w.SetFiles(files)
		}
		d.mu.Lock()
		t.status.DiskBytes, t.status.Files, t.status.FSFreeBytes, t.status.FSFreeInodes, t.status.Error = bytes, files, freeB, freeI, ""
		t.measured(bytes, files, time.Now())
		d.mu.Unlock()
		if j.trigger == "overflow" {
			journal.Emit(d.opt.Sink, journal.Event{Type: journal.Rescan, Priority: journal.Notice,
				Message: fmt.Sprintf("rescanned %s after an inotify queue overflow: %s in %d files", rt.Path, config.FormatSize(bytes), files),
				Fields: map[string]string{"GOMAINT_TARGET": rt.Name, "GOMAINT_CACHE_KIND": string(rt.Kind), "GOMAINT_CACHE_PATH": rt.Path,
					"GOMAINT_REASON": "inotify queue overflow", "GOMAINT_DISK_BYTES": journal.Int(bytes), "GOMAINT_FILES": journal.Int(files)}})
		}
		if rt.MaxSize > 0 && bytes > int64(rt.MaxSize) {
			raise(d.over, t, &t.overQueued)
		}
	}
}

// evicted remembers the action entries a trim of targets removes, for
// LIMIT_THRASHING to know them when go writes them again.
func (d *daemon) evicted(targets []*tstate) func(string, trim.Removal) {
	d.mu.Lock()
	defer d.mu.Unlock()
	tallies := map[string]*tally{}
	for _, t := range targets {
		tallies[t.rt.Name] = d.tallyFor(t.rt.Name, time.Now())
	}
	return func(target string, r trim.Removal) {
		tl := tallies[target]
		if tl == nil || r.Unit != "action" {
			return
		}
		name := []byte(path.Base(r.Path))
		tl.live.Evicted.Add(name)
		tl.evictedActions.Add(1)
	}
}

func (d *daemon) findIn(ts []*tstate, name string) *tstate {
	for _, t := range ts {
		if t.rt.Name == name {
			return t
		}
	}
	return nil
}
