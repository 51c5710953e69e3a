package daemon

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/trim"
	"github.com/gomaint/gomaint/maint/watch"
)

// countPublish: while builds run, the counts reach the status, metrics and
// alerts at most this often (and after every job).
const countPublish = time.Minute

// countsDue collects the counts, raises or clears the findings they
// decide, and publishes when they changed (loop only).
func (d *daemon) countsDue(now time.Time) {
	d.mu.Lock()
	changed := false
	var news [][]audit.Finding
	for _, t := range d.targets {
		tl := d.tallies[t.rt.Name]
		if tl == nil {
			news = append(news, nil)
			continue
		}
		tl.collect(now)
		changed = changed || tl.unpublished
		news = append(news, d.refreshOwn(t, now))
	}
	d.mu.Unlock()
	fresh := false
	for i, fs := range news {
		d.emitFindings(d.targets[i], fs)
		fresh = fresh || len(fs) > 0
	}
	if fresh || changed && now.Sub(d.counted) >= countPublish {
		d.counted = now
		d.publish()
	}
}

// seen notes the size of a watched cache while it is whole: a drop to
// less than half between two polls is a wipe in progress (or a large
// trim, which sets it itself), not a new size.
func (d *daemon) seen(t *tstate, now time.Time) {
	w := t.watch.Load()
	if w == nil {
		return
	}
	b, f := w.Estimate()
	d.mu.Lock()
	if f*2 >= t.seenFiles {
		t.seenBytes, t.seenFiles, t.seenAt = b, f, now
	}
	d.mu.Unlock()
}

// measured sets what a wipe would lose from an exact count (d.mu held).
func (t *tstate) measured(bytes, files int64, now time.Time) {
	t.seenBytes, t.seenFiles, t.seenAt = bytes, files, now
}

// The watch of a target is a small state machine, driven by the loop:
//
//	absent   --root opens, watch complete-->      watching
//	absent   --root opens, a limit ran out-->     degraded
//	watching --a shard cannot be watched-->       degraded
//	degraded --Resync watches every shard-->      watching
//	watching, degraded --root removed, moved, replaced, unmounted--> absent
//
// Every transition is journaled (a "watch" event) and shown in the status.
// Whatever the state, the limit holds: absent, the path is looked for
// every Intervals.Poll and armed when it appears (then rescanned);
// degraded, it is rescanned every Intervals.Degraded; watching, inotify
// alarms trim within seconds, and a safety-net rescan every
// Intervals.SafetyNet catches what inotify cannot say.
const (
	watchOff      = "" // not meant to be watched: module caches, no limit, watch = false
	watchAbsent   = "absent"
	watchWatching = "watching"
	watchDegraded = "degraded"
)

// Intervals time the watch lifecycle; zero fields take the defaults.
type Intervals struct {
	// Poll: how often an absent root is looked for, and a watched root's
	// path is checked to still name the watched directory (one statx).
	Poll time.Duration
	// Degraded: how often a degraded target is rescanned (and its missing
	// watches retried).
	Degraded time.Duration
	// SafetyNet: how often a watched target is rescanned all the same.
	SafetyNet time.Duration
}

// Defaults. A rescan of a 100,000-entry cache costs 0.3 CPU seconds
// (gomaint-bench -daemon measures it): the safety net costs 1.2 CPU
// seconds an hour on such a cache, degraded rescans 18 (0.5% of a core).
var defaultIntervals = Intervals{Poll: 2 * time.Second, Degraded: time.Minute, SafetyNet: 15 * time.Minute}

func (iv Intervals) withDefaults() Intervals {
	if iv.Poll <= 0 {
		iv.Poll = defaultIntervals.Poll
	}
	if iv.Degraded <= 0 {
		iv.Degraded = defaultIntervals.Degraded
	}
	if iv.SafetyNet <= 0 {
		iv.SafetyNet = defaultIntervals.SafetyNet
	}
	return iv
}

// wantsWatch: a build cache that has a limit to keep, or whose use must be
// recorded for its users (shared mode).
func (d *daemon) wantsWatch(t *tstate) bool {
	rt := t.rt
	return rt.Kind == config.Build && d.cfg.Daemon.Watch && (rt.MaxSize != 0 || rt.Shared()) &&
		rt.Path != "" && !rt.Disabled && !rt.Unresolved
}

// arm tries to watch t (loop only); measure asks for a rescan once armed,
// so the estimate starts from a count.
func (d *daemon) arm(t *tstate, measure bool) {
	now := time.Now()
	t.nextPoll, t.nextRescan = now.Add(d.iv.Poll), now.Add(d.iv.SafetyNet)
	root, err := safefs.OpenRoot(t.rt.Path)
	if err != nil {
		d.setWatch(t, watchAbsent, err.Error(), nil)
		return
	}
	var id unix.Stat_t
	unix.Fstat(root.FD, &id)
	d.mu.Lock()
	tl := d.tallyFor(t.rt.Name, now)
	if rid, ok := audit.RootOf(root.FD, ""); ok {
		t.status.Root = &rid
	}
	d.mu.Unlock()
	w, err := watch.Open(root, watch.Options{
		Limit:    int64(t.rt.MaxSize),
		TrackUse: t.rt.Shared(),
		Counts:   &tl.live,
		Over:     func() { raise(d.over, t, &t.overQueued) },
		Overflow: func() {
			tl.lostAt.Store(time.Now().Unix())
			raise(d.rescan, t, &t.rescanQueued)
		},
		Degraded: func(*watch.LimitError) { raise(d.degrade, t, &t.degradeQueued) },
		Wiped:    func() { raise(d.wiped, t, &t.wipedQueued) },
	})
	var limit *watch.LimitError
	if err != nil {
		root.Close()
		if errors.As(err, &limit) {
			d.setWatch(t, watchDegraded, err.Error(), limit)
			d.submit(&job{kind: jobRescan, target: t.rt.Name, trigger: "degraded"})
			t.nextRescan = now.Add(d.iv.Degraded)
		} else {
			d.setWatch(t, watchAbsent, err.Error(), nil)
		}
		return
	}
	t.root, t.ended, t.rootID = root, make(chan struct{}), id
	t.watch.Store(w)
	go func() {
		t.endErr = w.Run()
		close(t.ended)
		raise(d.gone, t, &t.goneQueued)
	}()
	if err := w.Incomplete(); errors.As(err, &limit) {
		d.setWatch(t, watchDegraded, err.Error(), limit)
		measure, t.nextRescan = true, now.Add(d.iv.Degraded)
	} else {
		d.setWatch(t, watchWatching, fmt.Sprintf("%d shard directories watched", w.Watches()), nil)
	}
	if measure {
		d.submit(&job{kind: jobRescan, target: t.rt.Name, trigger: "watch"})
	}
}

// disarm ends a target's watch and waits for its goroutine (loop only).
func (d *daemon) disarm(t *tstate) {
	w := t.watch.Swap(nil)
	if w == nil {
		return
	}
	w.Close()
	<-t.ended
	t.root.Close()
	t.root = nil
}

// rootGone: the watch ended by itself, or the path no longer names the
// watched directory. Tear down, and arm again at once: the path may
// already hold a new cache (rm -rf and a build, a rename over it).
func (d *daemon) rootGone(t *tstate, why string) {
	if t.watch.Load() == nil {
		return
	}
	d.sawWipe(t, "the cache directory was removed, moved or replaced ("+why+")")
	d.disarm(t)
	d.setWatch(t, watchAbsent, why, nil)
	d.arm(t, true)
}

// ended handles a watch goroutine's end (loop only).
func (d *daemon) ended(t *tstate) {
	t.goneQueued.Store(false)
	if t.watch.Load() == nil {
		return
	}
	select {
	case <-t.ended:
	default:
		return // a stale alarm from a watch already replaced
	}
	why := "the watch ended"
	if t.endErr != nil {
		why = t.endErr.Error()
	}
	d.rootGone(t, why)
}

// degraded: a shard appeared that the watch could not take on.
func (d *daemon) degraded(t *tstate) {
	t.degradeQueued.Store(false)
	w := t.watch.Load()
	if w == nil || t.wstate == watchDegraded {
		return
	}
	var limit *watch.LimitError
	if err := w.Incomplete(); errors.As(err, &limit) {
		d.setWatch(t, watchDegraded, err.Error(), limit)
		t.nextRescan = time.Now().Add(d.iv.Degraded)
		d.submit(&job{kind: jobRescan, target: t.rt.Name, trigger: "degraded"})
	}
}

// lifecycleDue runs what is due for each target at now (loop only).
func (d *daemon) lifecycleDue(now time.Time) {
	d.countsDue(now)
	for _, t := range d.targets {
		if t.wstate == watchOff {
			continue
		}
		if !t.nextPoll.After(now) {
			t.nextPoll = now.Add(d.iv.Poll)
			d.seen(t, now)
			switch {
			case t.wstate == watchAbsent:
				d.arm(t, true)
				continue
			case t.watch.Load() != nil && !d.sameRoot(t):
				d.rootGone(t, t.rt.Path+" no longer names the watched directory (replaced or unmounted)")
				continue
			}
			if t.retryAt.IsZero() && d.belowFloor(t) {
				d.submit(&job{kind: jobClean, target: t.rt.Name, trigger: "limit"})
			}
		}
		if t.nextRescan.After(now) {
			continue
		}
		trigger := "safety-net"
		t.nextRescan = now.Add(d.iv.SafetyNet)
		if t.wstate == watchDegraded {
			w := t.watch.Load()
			if w == nil {
				d.arm(t, true) // no instance at all: try again, rescanned if it fails
				continue
			}
			trigger, t.nextRescan = "degraded", now.Add(d.iv.Degraded)
			if w.Resync() == nil {
				d.setWatch(t, watchWatching, fmt.Sprintf("every shard watched again: %d shard directories", w.Watches()), nil)
			}
		}
		d.submit(&job{kind: jobRescan, target: t.rt.Name, trigger: trigger})
	}
}

// belowFloor: the watched cache's file system has less free space than
// its min_free. One fstatfs at every poll keeps the floor live: space that
// other files take is seen by no inotify watch of the cache.
func (d *daemon) belowFloor(t *tstate) bool {
	if t.root == nil {
		return false
	}
	var fs unix.Statfs_t
	if unix.Fstatfs(t.root.FD, &fs) != nil {
		return false
	}
	return trim.FreeDeficit(t.rt.MinFree.Or(t.rt.Kind), &fs) > 0
}

// nextLifecycle is the earliest lifecycle time of any target.
func (d *daemon) nextLifecycle() time.Time {
	var first time.Time
	for _, t := range d.targets {
		if t.wstate == watchOff {
			continue
		}
		for _, at := range []time.Time{t.nextPoll, t.nextRescan} {
			if first.IsZero() || at.Before(first) {
				first = at
			}
		}
	}
	return first
}

// sameRoot: the configured path still names the directory watched, and
// on the same mount (a mount over it, or a lazy unmount, changes that).
func (d *daemon) sameRoot(t *tstate) bool {
	var st unix.Statx_t
	if scan.Statx(unix.AT_FDCWD, t.rt.Path, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, unix.STATX_INO|unix.STATX_MNT_ID, &st) != nil {
		return false
	}
	var mnt unix.Statx_t
	if scan.Statx(t.root.FD, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &mnt) == nil &&
		st.Mask&mnt.Mask&unix.STATX_MNT_ID != 0 && st.Mnt_id != mnt.Mnt_id {
		return false
	}
	return st.Ino == t.rootID.Ino && unix.Mkdev(st.Dev_major, st.Dev_minor) == t.rootID.Dev
}

// setWatch records a state, journals a change, and keeps the
// WATCH_DEGRADED finding in the status while degraded.
func (d *daemon) setWatch(t *tstate, state, detail string, limit *watch.LimitError) {
	changed := t.wstate != state
	t.wstate = state
	d.mu.Lock()
	t.status.Watch, t.status.WatchDetail = state, detail
	t.status.Watched = state != watchOff && t.watch.Load() != nil
	t.status.Findings = withoutCode(t.status.Findings, watchDegradedCode)
	if state == watchDegraded {
		t.status.Findings = append(t.status.Findings, d.degradedFinding(t, detail, limit))
	}
	d.mu.Unlock()
	if !changed {
		return
	}
	rt := t.rt
	prio, msg := journal.Info, fmt.Sprintf("watching %s: %s", rt.Path, detail)
	fields := map[string]string{"GOMAINT_TARGET": rt.Name, "GOMAINT_CACHE_KIND": string(rt.Kind), "GOMAINT_CACHE_PATH": rt.Path,
		"GOMAINT_WATCH_STATE": state, "GOMAINT_REASON": detail}
	switch state {
	case watchAbsent:
		prio = journal.Notice
		msg = fmt.Sprintf("not watching %s: %s; looking for it every %s", rt.Path, detail, d.iv.Poll)
	case watchDegraded:
		prio = journal.Warning
		msg = fmt.Sprintf("watch of %s degraded: %s; rescanning every %s instead", rt.Path, detail, d.iv.Degraded)
		fields["GOMAINT_RESCAN_INTERVAL_SEC"] = strconv.Itoa(int(d.iv.Degraded / time.Second))
		if limit != nil {
			msg += "; raise it: " + limit.Raise
			fields["GOMAINT_LIMIT"], fields["GOMAINT_FIX"] = limit.Limit, limit.Raise
		}
	}
	journal.Emit(d.opt.Sink, journal.Event{Type: journal.Watch, Priority: prio, Message: msg, Fields: fields})
}

// watchDegradedCode is the daemon's own finding, not an audit's: a watch
// that a limit left incomplete.
var watchDegradedCode = finding.Declare(finding.Decl{Name: "WATCH_DEGRADED", Lowest: finding.Warning, Highest: finding.Warning,
	ID: "523d6bbc4abd4a00ae9ba9672d3955c0", Event: "finding",
	Summary: "an inotify or open-file limit left a watched cache incomplete; its limit is held by rescans"})

func (d *daemon) degradedFinding(t *tstate, detail string, limit *watch.LimitError) audit.Finding {
	fix := "see journalctl -u gomaint -o verbose GOMAINT_EVENT=watch"
	if limit != nil {
		fix = limit.Raise + "; then systemctl reload gomaint"
	}
	return audit.Finding{Code: watchDegradedCode, Severity: finding.Warning, Cache: t.rt.Name, Path: t.rt.Path,
		Detail: fmt.Sprintf("the cache is not fully watched (%s): its limit is enforced by a rescan every %s instead of within seconds", detail, d.iv.Degraded),
		Fix:    fix}
}

func withoutCode(fs []audit.Finding, code finding.Code) []audit.Finding {
	out := fs[:0:0]
	for _, f := range fs {
		if f.Code != code {
			out = append(out, f)
		}
	}
	return out
}

// current updates what resolution found at start or reload for a cache
// made since: a clean must not take it for absent (the path is looked up
// again without following a link, as OpenRoot does).
func current(rt target.Resolved) target.Resolved {
	var st unix.Stat_t
	if !rt.Exists && rt.Err == nil && rt.Path != "" && unix.Lstat(rt.Path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		rt.Exists = true
	}
	return rt
}

// Measure is what one rescan does to a cache: an exact count of its disk
// bytes and files (for gomaint-bench to time).
func Measure(path string) (bytes, files int64, err error) {
	bytes, files, _, _, err = measure(path)
	return bytes, files, err
}

// DefaultIntervals are the lifecycle's intervals unless Options set them.
func DefaultIntervals() Intervals { return defaultIntervals }
