// Package metrics writes gomaint's state as a Prometheus textfile, for
// node_exporter's textfile collector.
//
// The file is replaced atomically: Write renders the whole exposition into
// memory, writes it to a temporary file in the same directory (named
// .gomaint.prom.*, which the collector ignores because it reads only
// *.prom), fsyncs it and renames it over gomaint.prom, then fsyncs the
// directory. A reader sees the old file or the new one, never a mix, and a
// crash at any point leaves a complete gomaint.prom (or none yet). When
// the file already holds the same bytes, nothing is written.
//
// Output is deterministic: families sorted by name, samples by label values,
// so two snapshots with the same figures give the same bytes.
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/safefs"
)

// FileName is the textfile Write produces in its directory.
const FileName = "gomaint.prom"

// Target is one cache's figures.
type Target struct {
	Name, Kind, Path string // kind "build" or "mod"; Path is not exported as a label
	DiskBytes, Files int64  // disk usage (st_blocks*512) and file count of the cache
	// LimitBytes is max_size; 0 means no limit, and then
	// gomaint_cache_limit_bytes has no sample for this target.
	LimitBytes                int64
	FSFreeBytes, FSFreeInodes int64 // of the file system holding the cache
	// TrimFreedBytesTotal is a counter: bytes freed by trims since the
	// daemon started.
	TrimFreedBytesTotal int64
	// Zero means never: the sample is omitted rather than reported as 1970.
	LastAudit, LastCleanSuccess time.Time
	// Watch is the daemon's watch state: "watching" gives
	// gomaint_watch_up 1, "absent" or "degraded" 0, and "" (a cache the
	// daemon does not mean to watch) no sample.
	Watch string
	// VerifyModules counts module versions verified, by result
	// (verify.Results), since the daemon started or across CLI runs; nil
	// for a cache never verified, which then has no samples.
	VerifyModules map[string]int64
	// LastVerifySuccess is the end of the last verification of the cache
	// that could read it and found nothing at error severity.
	LastVerifySuccess time.Time
	// Counts are the daemon's hits, misses and writes (nil: not counted,
	// no samples) and EvictedBytesTotal what its trims freed, since the
	// last `gomaint stats --zero` (a counter reset).
	Counts            *Counts
	EvictedBytesTotal int64
	// OldestEntryUnix is the mtime of the oldest build cache entry at the
	// last audit; 0: no sample.
	OldestEntryUnix int64
}

// Counts are a watched build cache's counters.
type Counts struct {
	Hits, Misses, WrittenBytes int64
	// Partial: the counts miss events (a degraded watch, a queue overflow).
	Partial bool
}

// Finding is the value of one gomaint_findings sample: how many findings
// of Code with Severity the last audit reported for Target. Target is empty
// for machine-wide findings (GOROOT_*). Several entries with the same
// target, code and severity are added up.
type Finding struct {
	Target, Code, Severity string
	Count                  int
}

// Snapshot is everything one textfile reports.
type Snapshot struct {
	Targets  []Target
	Findings []Finding
	GorootOK bool
	// Alerts are the alert routes' figures; nil without routes, and then
	// the alert metrics have no samples.
	Alerts *Alerts
	// Now is when the figures were taken (ages are reckoned from it);
	// zero: the time of Format.
	Now time.Time
	// BuildFailures counts the failed builds of gomaint run by reason
	// (buildfail.All), a counter kept in the file across runs (see
	// BuildFailed); nil: none counted yet, and no samples.
	BuildFailures map[string]int64
}

// Alerts is what the alert sender did and what waits for it.
type Alerts struct {
	// Sent counts delivery attempts by route and outcome (a counter kept
	// by the sender; a zero for every route and outcome that has none).
	Sent map[string]map[string]int64
	// SpoolFiles is how many alerts wait in the spool.
	SpoolFiles int64
}

// CountFindings turns an audit's findings into Snapshot.Findings, one
// entry per finding (Format adds them up per target, code and severity).
func CountFindings(fs []audit.Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		out = append(out, Finding{Target: f.Cache, Code: f.Code.String(), Severity: f.Severity.String(), Count: 1})
	}
	return out
}

// Write writes dir/gomaint.prom atomically (see the package comment), mode
// 0644 whatever the umask, so node_exporter's user can read it. A file
// that already says the same is left alone: flash storage wears with every
// write, and a daemon's runs often change nothing.
//
// The build failure counter is the file's own: what s says of it counts
// only where it is higher (BuildFailed). So a writer that does not keep
// the counter (the daemon, an audit) carries it over, and it never goes
// back as long as every writer holds the metrics lock (Lock).
func Write(dir string, s Snapshot) error {
	final := filepath.Join(dir, FileName)
	if dir == "" {
		// CreateTemp would pick os.TempDir, and the rename would then
		// cross file systems or land in the working directory.
		return fmt.Errorf("metrics: write %s: no directory given", FileName)
	}
	s.BuildFailures = carryBuildFailures(final, s.BuildFailures)
	var buf bytes.Buffer
	if err := Format(&buf, s); err != nil {
		return fmt.Errorf("metrics: %s: %w", final, err)
	}
	if _, err := safefs.WriteChanged(dir, safefs.File{Name: FileName, Data: buf.Bytes(), Perm: 0o644, Gid: -1}); err != nil {
		return fmt.Errorf("metrics: write %s: %w", final, err)
	}
	return nil
}

type label struct{ name, value string }

type sample struct {
	labels []label
	value  string
}

type family struct {
	name, help, typ string
	samples         []sample
}

// Format renders s in the Prometheus text exposition format (version 0.0.4).
func Format(w io.Writer, s Snapshot) error {
	if s.Now.IsZero() {
		s.Now = time.Now()
	}
	fams := map[string]*family{}
	add := func(name, typ, help string, v string, labels ...label) {
		f := fams[name]
		if f == nil {
			f = &family{name: name, typ: typ, help: help}
			fams[name] = f
		}
		f.samples = append(f.samples, sample{labels, v})
	}

	seen := map[string]bool{}
	for _, t := range s.Targets {
		if seen[t.Name] {
			// Two samples with one label set make the whole file invalid.
			return fmt.Errorf("two targets named %q", t.Name)
		}
		seen[t.Name] = true
		tk := []label{{"target", t.Name}, {"kind", t.Kind}}
		add("gomaint_cache_disk_bytes", "gauge", "Disk usage of the cache in bytes (st_blocks*512 of every entry).", itoa(t.DiskBytes), tk...)
		add("gomaint_cache_files", "gauge", "Number of files in the cache.", itoa(t.Files), tk...)
		if t.LimitBytes > 0 {
			add("gomaint_cache_limit_bytes", "gauge", "Configured max_size of the cache in bytes; absent when the cache has no limit.", itoa(t.LimitBytes), tk...)
		}
		add("gomaint_fs_free_bytes", "gauge", "Free bytes of the file system holding the cache.", itoa(t.FSFreeBytes), tk...)
		add("gomaint_fs_free_inodes", "gauge", "Free inodes of the file system holding the cache.", itoa(t.FSFreeInodes), tk...)
		add("gomaint_trim_freed_bytes_total", "counter", "Disk space in bytes freed by trims of the cache since the daemon started.", itoa(t.TrimFreedBytesTotal), tk...)
		if !t.LastAudit.IsZero() {
			add("gomaint_last_audit_timestamp_seconds", "gauge", "Unix time of the last completed audit of the cache.", unixSeconds(t.LastAudit), tk...)
		}
		if t.Watch != "" {
			add("gomaint_watch_up", "gauge", "1 if the daemon watches every shard of the build cache with inotify, 0 if the cache is absent or the watch is degraded (enforced by rescans).", boolInt(t.Watch == "watching"), tk...)
		}
		if !t.LastCleanSuccess.IsZero() {
			add("gomaint_last_clean_success_timestamp_seconds", "gauge", "Unix time of the last clean of the cache that met its limits.", unixSeconds(t.LastCleanSuccess), tk...)
		}
		for result, n := range t.VerifyModules {
			add("gomaint_verify_modules_total", "counter", "Module versions verified, by result: ok, busy (left for the next run), unchecked (only a .mod, no checksum known for it), or the finding (modified, unverifiable, zip_corrupt, unreadable, checksum_mismatch).",
				itoa(n), label{"target", t.Name}, label{"result", result})
		}
		if c := t.Counts; c != nil {
			add("gomaint_cache_hits_total", "counter", "Build cache lookups that found an entry (action entries opened read-only), counted from inotify events since the last gomaint stats --zero.", itoa(c.Hits), tk...)
			add("gomaint_cache_misses_total", "counter", "Build cache lookups that missed (action entries written), counted from inotify events since the last gomaint stats --zero.", itoa(c.Misses), tk...)
			add("gomaint_cache_written_bytes_total", "counter", "Disk bytes (st_blocks*512) of build cache entries written since the last gomaint stats --zero.", itoa(c.WrittenBytes), tk...)
			add("gomaint_cache_counts_partial", "gauge", "1 if the hit and miss counts miss events (a degraded watch, an inotify queue overflow since the last zero), else 0.", boolInt(c.Partial), tk...)
		}
		add("gomaint_cache_evicted_bytes_total", "counter", "Disk bytes freed by the daemon's trims of the cache since the last gomaint stats --zero.", itoa(t.EvictedBytesTotal), tk...)
		if t.OldestEntryUnix > 0 {
			add("gomaint_cache_oldest_entry_age_seconds", "gauge", "Age of the least recently used build cache entry (by mtime, which go refreshes on use) at the last audit.",
				itoa(max(s.Now.Unix()-t.OldestEntryUnix, 0)), tk...)
		}
		if !t.LastVerifySuccess.IsZero() {
			add("gomaint_verify_last_success_timestamp_seconds", "gauge", "Unix time of the last verification of the module cache that read it and found nothing at error severity.",
				unixSeconds(t.LastVerifySuccess), label{"target", t.Name})
		}
	}

	add("gomaint_goroot_ok", "gauge", "1 if GOROOT passed its check, else 0.", boolInt(s.GorootOK))
	if a := s.Alerts; a != nil {
		add("gomaint_alert_spool_files", "gauge", "Alerts waiting in the spool for delivery.", itoa(a.SpoolFiles))
		for route, outcomes := range a.Sent {
			for outcome, n := range outcomes {
				add("gomaint_alerts_sent_total", "counter", "Alert delivery attempts by route and outcome (delivered, failed and retried later, dropped).",
					itoa(n), label{"route", route}, label{"outcome", outcome})
			}
		}
	}

	// A zero for every declared code, target and severity the code can
	// have, so that alerts need no absent() and a finding appearing is a
	// change of value, not a new series. Machine-wide codes (GOROOT) have
	// no target label.
	type fkey struct{ target, code, sev string }
	counts := map[fkey]int{}
	for _, code := range finding.All() {
		d := code.Decl()
		targets := s.Targets
		if d.MachineWide {
			targets = []Target{{}}
		}
		for _, t := range targets {
			for sev := d.Lowest; sev <= d.Highest; sev++ {
				counts[fkey{t.Name, d.Name, sev.String()}] = 0
			}
		}
	}
	for _, f := range s.Findings {
		counts[fkey{f.Target, f.Code, f.Severity}] += f.Count
	}
	for k, n := range counts {
		ls := []label{{"code", k.code}, {"severity", k.sev}}
		if k.target != "" {
			ls = append([]label{{"target", k.target}}, ls...)
		}
		add("gomaint_findings", "gauge", "Findings of the last audit by target, code and severity; 0 for every known code at each severity it can have.", strconv.Itoa(n), ls...)
	}

	if s.BuildFailures != nil {
		fams[buildFailures] = buildFailureFamily(s.BuildFailures)
	}
	_, err := w.Write(render(fams))
	return err
}

// render writes families sorted by name, samples by label values.
func render(fams map[string]*family) []byte {
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		f := fams[n]
		sort.Slice(f.samples, func(i, j int) bool { return lessLabels(f.samples[i].labels, f.samples[j].labels) })
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.typ)
		for _, s := range f.samples {
			b.WriteString(f.name)
			if len(s.labels) > 0 {
				b.WriteByte('{')
				for i, l := range s.labels {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(l.name)
					b.WriteString(`="`)
					b.WriteString(escapeLabel(l.value))
					b.WriteByte('"')
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(s.value)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func lessLabels(a, b []label) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].name != b[i].name {
			return a[i].name < b[i].name
		}
		if a[i].value != b[i].value {
			return a[i].value < b[i].value
		}
	}
	return len(a) < len(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func boolInt(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// unixSeconds keeps milliseconds: enough for "how long ago", and exact in
// a float64.
func unixSeconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', -1, 64)
}

// Label values: backslash, double quote and newline are escaped, and the
// value must be UTF-8 or the scraper rejects the whole file.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(v string) string { return labelEscaper.Replace(strings.ToValidUTF8(v, "\uFFFD")) }

// HELP text escapes only backslash and newline.
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func escapeHelp(v string) string { return helpEscaper.Replace(v) }
