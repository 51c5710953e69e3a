package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/journal"
)

// limitThrashing is the daemon's own finding: it needs the entries trims
// evicted (watch.Evicted) and go re-created, which only the watch sees.
var limitThrashing = finding.Declare(finding.Decl{Name: "LIMIT_THRASHING", Lowest: finding.Warning, Highest: finding.Warning,
	ID: "68d7fecd05b54831b623fc9466300e31", Event: "finding",
	Summary: "builds keep re-creating entries that trims evicted within the day: max_size is below the working set"})

// A day in which at least thrashMin new entries, and thrashShare of all
// new entries, re-create entries trims evicted is thrashing: a healthy
// cache re-creates almost none (what a trim evicts was the least used).
const (
	thrashMin   = 32
	thrashShare = 0.2
	// wipeShown is how long a CACHE_WIPED stays in the status.
	wipeShown = 24 * time.Hour
)

// thrashFinding judges the last day of t (d.mu held): nil when healthy.
func (d *daemon) thrashFinding(t *tstate, day Counters) *audit.Finding {
	if day.Recreated < thrashMin || float64(day.Recreated) < thrashShare*float64(day.Created) || t.rt.MaxSize == 0 {
		return nil
	}
	// The working set: the cache at its limit (all of it used lately,
	// since trims take the least recently used first) and, of what one
	// trim evicts, the share builds needed again. Per trim, not per day:
	// a day's trims evict the same entries over and over.
	share := 1.0
	if day.EvictedActions > 0 {
		share = min(float64(day.Recreated)/float64(day.EvictedActions), 1)
	}
	perTrim := float64(day.EvictedBytes) / float64(max(day.Trims, 1))
	ws := max(t.status.DiskBytes, int64(t.rt.MaxSize)) + int64(share*perTrim)
	suggest := roundUp(ws+ws/4, 64<<20)
	return &audit.Finding{Code: limitThrashing, Severity: finding.Warning, Cache: t.rt.Name, Path: t.rt.Path,
		Detail: fmt.Sprintf("in the last day %d of %d new entries re-created entries that trims had evicted (%d trims freed %s): the working set is about %s, above max_size %s",
			day.Recreated, day.Created, day.Trims, config.FormatSize(day.EvictedBytes), config.FormatSize(ws), config.FormatSize(int64(t.rt.MaxSize))),
		Fix:   fmt.Sprintf("set max_size = %q for target %q (if its file system has the room), then systemctl reload gomaint", config.FormatSize(suggest), t.rt.Name),
		Count: day.Recreated, DiskBytes: ws}
}

func roundUp(n, unit int64) int64 { return (n + unit - 1) / unit * unit }

// refreshOwn puts t's own CACHE_WIPED and LIMIT_THRASHING, as they stand
// at now, into its status (d.mu held), and returns those that are new.
func (d *daemon) refreshOwn(t *tstate, now time.Time) []audit.Finding {
	tl := d.tallies[t.rt.Name]
	had := map[finding.Code]bool{}
	for _, f := range t.status.Findings {
		had[f.Code] = true
	}
	t.status.Findings = withoutCode(withoutCode(t.status.Findings, limitThrashing), audit.CacheWiped)
	if tl == nil {
		return nil
	}
	var own []audit.Finding
	if tl.Wipe != nil && now.Sub(tl.WipeAt) < wipeShown {
		own = append(own, *tl.Wipe)
	}
	if f := d.thrashFinding(t, tl.window(now, 24*time.Hour)); f != nil {
		own = append(own, *f)
	}
	var news []audit.Finding
	for _, f := range own {
		t.status.Findings = append(t.status.Findings, f)
		if !had[f.Code] {
			news = append(news, f)
		}
	}
	return news
}

// emitFindings journals findings the daemon raised itself.
func (d *daemon) emitFindings(t *tstate, fs []audit.Finding) {
	for _, f := range fs {
		journal.Emit(d.opt.Sink, journal.Event{Type: f.Code.Type(), Priority: f.Severity.Priority(), Message: f.Code.String() + ": " + f.Detail,
			Fields: map[string]string{"GOMAINT_FINDING": f.Code.String(), "GOMAINT_SEVERITY": f.Severity.String(), "GOMAINT_TARGET": t.rt.Name,
				"GOMAINT_CACHE_KIND": string(t.rt.Kind), "GOMAINT_CACHE_PATH": t.rt.Path, "GOMAINT_FIX": f.Fix,
				"GOMAINT_COUNT": journal.Int(f.Count), "GOMAINT_DISK_BYTES": journal.Int(f.DiskBytes)}})
	}
}

// sawWipe records a wipe the watch saw (loop only): every shard directory
// removed, or the root gone. The same wipe seen twice (shards, then the
// root) is recorded once.
func (d *daemon) sawWipe(t *tstate, how string) {
	now := time.Now()
	d.mu.Lock()
	tl := d.tallyFor(t.rt.Name, now)
	lostB, lostF, after := t.seenBytes, t.seenFiles, t.seenAt
	if lostF < audit.MinWipedFiles || tl.Wipe != nil && now.Sub(tl.WipeAt) < time.Minute {
		d.mu.Unlock()
		return
	}
	t.seenBytes, t.seenFiles = 0, 0
	scope := d.cfg.Scope
	d.mu.Unlock()
	rules := audit.TmpfilesRules(context.Background(), scope, discover.EnvFrom(d.opt.Environ), d.opt.Environ)
	f := audit.WipeFinding(audit.Wipe{After: after, Before: now, How: how, LostBytes: lostB, LostFiles: lostF}, t.rt.Name, t.rt.Path, scope, rules)
	d.mu.Lock()
	tl.Wipe, tl.WipeAt, tl.dirty = &f, now, true
	news := d.refreshOwn(t, now)
	d.mu.Unlock()
	d.emitFindings(t, news)
	d.publish()
	// The estimate never takes removals off its bytes: count again.
	d.submit(&job{kind: jobRescan, target: t.rt.Name, trigger: "wiped"})
}
