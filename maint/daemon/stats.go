package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/watch"
)

// Counters are what a cache did over some time: lookups that hit and
// missed, entries created (and re-created after a trim evicted them),
// bytes written (st_blocks*512), and the trims of gomaint with what they
// freed.
type Counters struct {
	Hits           int64 `json:"hits"`
	Misses         int64 `json:"misses"`
	Created        int64 `json:"entries_created"`
	Recreated      int64 `json:"entries_recreated"`
	WrittenBytes   int64 `json:"written_disk_bytes"`
	Trims          int64 `json:"trims"`
	EvictedBytes   int64 `json:"evicted_disk_bytes"`
	EvictedActions int64 `json:"evicted_actions"`
}

func (c *Counters) add(o Counters) {
	c.Hits += o.Hits
	c.Misses += o.Misses
	c.Created += o.Created
	c.Recreated += o.Recreated
	c.WrittenBytes += o.WrittenBytes
	c.Trims += o.Trims
	c.EvictedBytes += o.EvictedBytes
	c.EvictedActions += o.EvictedActions
}

// HitRatio is hits over lookups; false without lookups.
func (c Counters) HitRatio() (float64, bool) {
	if n := c.Hits + c.Misses; n > 0 {
		return float64(c.Hits) / float64(n), true
	}
	return 0, false
}

// CacheStats is how well a cache works: since the last `gomaint stats
// --zero`, and over the last hour and day.
type CacheStats struct {
	// Counted: hits and misses are counted, from the watch of a build
	// cache (the daemon watches one with a limit, or shared).
	Counted  bool      `json:"counted"`
	Since    time.Time `json:"since"`
	Total    Counters  `json:"total"`
	LastHour Counters  `json:"last_hour"`
	LastDay  Counters  `json:"last_day"`
	// Partial says why the counts miss events ("" when they do not):
	// a degraded watch, events the kernel dropped.
	Partial string `json:"partial,omitempty"`
}

// bucketSpan is the resolution of the hour and day windows: 288 buckets
// a day at most, per target.
const bucketSpan = 5 * time.Minute

type bucket struct {
	Start int64 `json:"start"` // unix seconds
	Counters
}

// tally is one target's counts. The watch counts into live (atomics);
// collect moves them into the totals. It outlives watches and reloads.
type tally struct {
	live watch.Counts
	// evictedActions and lostAt are set by the worker and the watch.
	evictedActions atomic.Int64
	lostAt         atomic.Int64 // unix time of the last inotify queue overflow

	// The rest is guarded by daemon.mu.
	saved
	dirty       bool // changed since the last save
	unpublished bool // counted since the last publish
}

// saved is what stats.json keeps of a tally.
type saved struct {
	Since   time.Time `json:"since"`
	Total   Counters  `json:"total"`
	Buckets []bucket  `json:"buckets,omitempty"`
	// Lost: events were lost since Since (the counts are partial).
	Lost time.Time `json:"lost,omitzero"`
	// Wipe is the last CACHE_WIPED, shown for wipeShown after WipeAt.
	Wipe   *audit.Finding `json:"wipe,omitempty"`
	WipeAt time.Time      `json:"wipe_at,omitzero"`
}

// add puts c into the totals and the bucket of now (d.mu held).
func (tl *tally) add(now time.Time, c Counters) {
	if c == (Counters{}) {
		return
	}
	tl.Total.add(c)
	start := now.Truncate(bucketSpan).Unix()
	if n := len(tl.Buckets); n == 0 || tl.Buckets[n-1].Start != start {
		tl.Buckets = append(tl.Buckets, bucket{Start: start})
	}
	tl.Buckets[len(tl.Buckets)-1].add(c)
	tl.unpublished = true
	cut := now.Add(-24 * time.Hour).Unix()
	for len(tl.Buckets) > 0 && tl.Buckets[0].Start < cut {
		tl.Buckets = tl.Buckets[1:]
	}
	tl.dirty = true
}

// collect moves what the watch counted into the totals (d.mu held).
func (tl *tally) collect(now time.Time) {
	l := &tl.live
	tl.add(now, Counters{Hits: l.Hits.Swap(0), Misses: l.Misses.Swap(0), Created: l.Created.Swap(0),
		Recreated: l.Recreated.Swap(0), WrittenBytes: l.WrittenBytes.Swap(0), EvictedActions: tl.evictedActions.Swap(0)})
	if at := tl.lostAt.Swap(0); at != 0 {
		tl.Lost, tl.dirty = time.Unix(at, 0), true
	}
}

// window sums the buckets younger than d.
func (tl *tally) window(now time.Time, d time.Duration) Counters {
	var c Counters
	cut := now.Add(-d).Unix()
	for _, b := range tl.Buckets {
		if b.Start >= cut {
			c.add(b.Counters)
		}
	}
	return c
}

// zero starts the totals again.
func (tl *tally) zero(now time.Time) {
	tl.Since, tl.Total, tl.Lost, tl.dirty = now, Counters{}, time.Time{}, true
}

// zero is `gomaint stats --zero` (the worker): the totals of the job's
// targets start again, saved at the publish that follows the job.
func (d *daemon) zero(j *job) {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range j.targets {
		tl := d.tallyFor(t.rt.Name, now)
		tl.collect(now)
		tl.zero(now)
	}
	d.statsSaved = time.Time{}
}

// stats is t's CacheStats (d.mu held). It reads the watch state from
// t.status, not t.wstate: socket goroutines call it, and wstate is the
// loop's alone.
func (d *daemon) stats(t *tstate, now time.Time) *CacheStats {
	tl := d.tallies[t.rt.Name]
	if tl == nil {
		return nil
	}
	s := &CacheStats{Counted: t.status.Watch != watchOff, Since: tl.Since, Total: tl.Total,
		LastHour: tl.window(now, time.Hour), LastDay: tl.window(now, 24*time.Hour)}
	switch {
	case t.status.Watch == watchDegraded:
		s.Partial = "the watch is degraded: entries in shard directories without a watch are not counted"
	case !tl.Lost.IsZero():
		s.Partial = "the kernel dropped inotify events (queue overflow) at " + tl.Lost.Format(time.DateTime)
	}
	return s
}

// statsFile keeps the tallies across restarts.
const statsFile = "stats.json"

// statsSaveEvery: counts are saved at most this often while they change
// (and at stop and --zero), never per event: state directories are on SD
// cards too. A crash loses at most this much of the counts.
const statsSaveEvery = 5 * time.Minute

type statsState struct {
	Version int               `json:"version"`
	Targets map[string]*saved `json:"targets"`
}

// loadStats reads the saved tallies; none when there is no file.
func loadStats(dir string) (map[string]*tally, error) {
	out := map[string]*tally{}
	if dir == "" {
		return out, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, statsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	} else if err != nil {
		return out, err
	}
	var st statsState
	if err := json.Unmarshal(data, &st); err != nil {
		return out, fmt.Errorf("%s: %w (the counts start again from zero)", filepath.Join(dir, statsFile), err)
	}
	for name, s := range st.Targets {
		if s != nil {
			out[name] = &tally{saved: *s}
		}
	}
	return out, nil
}

// saveStats writes the tallies when they changed, at most every
// statsSaveEvery unless forced (loop only).
func (d *daemon) saveStats(force bool) {
	now := time.Now()
	d.mu.Lock()
	dirty := false
	st := statsState{Version: 1, Targets: map[string]*saved{}}
	for name, tl := range d.tallies {
		tl.collect(now)
		dirty = dirty || tl.dirty
		s := tl.saved
		s.Buckets = append([]bucket(nil), tl.Buckets...)
		st.Targets[name] = &s
	}
	if !dirty || d.opt.StateDir == "" || !force && now.Sub(d.statsSaved) < statsSaveEvery {
		d.mu.Unlock()
		return
	}
	for _, tl := range d.tallies {
		tl.dirty = false
	}
	d.statsSaved = now
	d.mu.Unlock()
	data, err := json.Marshal(st)
	if err == nil {
		if err = os.MkdirAll(d.opt.StateDir, 0o755); err == nil {
			err = safefs.WriteAtomic(d.opt.StateDir, statsFile, append(data, '\n'), 0o600)
		}
	}
	if err != nil {
		d.warnOnce("stats", err)
	}
}

// tallyFor returns t's tally, made when missing (d.mu held).
func (d *daemon) tallyFor(name string, now time.Time) *tally {
	tl := d.tallies[name]
	if tl == nil {
		tl = &tally{saved: saved{Since: now}}
		d.tallies[name] = tl
	}
	return tl
}

// SavedStats is what the last daemon saved of each target's counts, as
// `gomaint stats` shows them without a daemon (the windows reckoned at
// now; nothing counted since).
func SavedStats(dir string, now time.Time) (map[string]*CacheStats, error) {
	tallies, err := loadStats(dir)
	out := map[string]*CacheStats{}
	for name, tl := range tallies {
		s := &CacheStats{Since: tl.Since, Total: tl.Total, LastHour: tl.window(now, time.Hour), LastDay: tl.window(now, 24*time.Hour)}
		if !tl.Lost.IsZero() {
			s.Partial = "the kernel dropped inotify events (queue overflow) at " + tl.Lost.Format(time.DateTime)
		}
		out[name] = s
	}
	return out, err
}
