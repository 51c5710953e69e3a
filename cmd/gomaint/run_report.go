package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/buildfail"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/trim"
	"github.com/gomaint/gomaint/maint/workset"
)

// runReport is what `gomaint run` reports (--json prints it as is).
type runReport struct {
	Command    []string      `json:"command"`
	ExitStatus int           `json:"exit_status"`
	Signal     string        `json:"signal,omitempty"` // gomaint received it: nothing was pruned
	DurationMS int64         `json:"duration_ms"`
	Caches     []cacheReport `json:"caches"`
	// Failures: why the build failed, from what go printed on standard
	// error, one per reason.
	Failures []buildfail.Failure `json:"failures"`
}

// cacheReport is one cache's share of a run.
type cacheReport struct {
	Target     string `json:"target"`
	Kind       string `json:"kind"`
	Path       string `json:"path"`
	NotWatched string `json:"not_watched,omitempty"` // why the run saw nothing of it

	// Hits: action entries go found; Misses: action entries it had to
	// create (go rewrites a few it never looks up, such as a link's, on
	// every build: those are written, not missed).
	Hits     int64   `json:"hits"`
	Misses   int64   `json:"misses"`
	HitRatio float64 `json:"hit_ratio"`
	// UsedEntries: action entries looked up or written; UsedDiskBytes
	// their disk usage with their outputs': the working set.
	UsedEntries   int   `json:"used_entries"`
	UsedDiskBytes int64 `json:"used_disk_bytes"`
	// WrittenEntries: action entries written (the misses that were
	// stored); WrittenDiskBytes, every entry written.
	WrittenEntries   int64 `json:"written_entries"`
	WrittenDiskBytes int64 `json:"written_disk_bytes"`
	DiskBytesBefore  int64 `json:"disk_bytes_before"`
	// DiskBytesAfter: before, plus what was written, minus what the prune
	// freed (the watch does not see go's own removals: it errs high).
	DiskBytesAfter int64 `json:"disk_bytes_after"`
	// VersionsUsed: module versions the run loaded (a module cache).
	VersionsUsed int          `json:"versions_used"`
	Prune        *trim.Result `json:"prune,omitempty"`
	PruneSkipped string       `json:"prune_skipped,omitempty"` // why --prune removed nothing
}

func buildReport(b *watchedBuild, set *workset.Set) cacheReport {
	ws := b.ws
	rep := cacheReport{Target: b.rt.Name, Kind: string(b.rt.Kind), Path: b.rt.Path,
		Hits: ws.Hits(), Misses: ws.Counts.Created.Load(),
		UsedEntries: set.Entries, UsedDiskBytes: set.Bytes,
		WrittenEntries: ws.Counts.Misses.Load(), WrittenDiskBytes: ws.Counts.WrittenBytes.Load(),
		DiskBytesBefore: ws.Before, DiskBytesAfter: ws.Estimate()}
	if n := rep.Hits + rep.Misses; n > 0 {
		rep.HitRatio = float64(rep.Hits) / float64(n)
	}
	return rep
}

// pruneOptions lists every removal of a dry run on stdout, as clean does.
func pruneOptions(name string, dryRun bool, stdout io.Writer) trim.Options {
	opt := trim.Options{DryRun: dryRun}
	if dryRun {
		var mu sync.Mutex
		opt.Removed = func(r trim.Removal) {
			mu.Lock()
			defer mu.Unlock()
			safetext.Fprintf(stdout, "would remove %s %s/%s (%s)\n", r.Unit, name, r.Path, config.FormatSize(r.DiskBytes))
		}
	}
	return opt
}

// print writes the report: JSON on stdout, or text on stderr, where it
// stays out of the command's own output.
func (r *runner) print(rep *runReport, asJSON bool, stdout io.Writer) {
	if asJSON {
		writeJSON(stdout, rep, false)
		return
	}
	for _, c := range rep.Caches {
		safetext.Fprintln(r.stderr, "gomaint run: "+c.text())
	}
	for _, f := range rep.Failures {
		safetext.Fprintf(r.stderr, "gomaint run: the build failed (%s): %s Fix: %s\n  go said: %s\n", f.Reason, f.Cause, f.Fix, f.Line)
	}
}

// text is the one-line report of a cache.
func (c cacheReport) text() string {
	if c.NotWatched != "" {
		return fmt.Sprintf("%s %s: not watched: %s", c.Target, orNone(c.Path), c.NotWatched)
	}
	if c.Kind == string(config.Mod) {
		return fmt.Sprintf("%s %s: used %d module versions", c.Target, c.Path, c.VersionsUsed) + c.pruneText()
	}
	s := fmt.Sprintf("%s %s: %d hits, %d misses (%.0f%% hits); used %d entries (%s), wrote %d (%s); size %s -> %s",
		c.Target, c.Path, c.Hits, c.Misses, 100*c.HitRatio, c.UsedEntries, config.FormatSize(c.UsedDiskBytes),
		c.WrittenEntries, config.FormatSize(c.WrittenDiskBytes), config.FormatSize(c.DiskBytesBefore), config.FormatSize(c.DiskBytesAfter))
	return s + c.pruneText()
}

// pruneText is what --prune did, for the one-line report.
func (c cacheReport) pruneText() string {
	s := ""
	if p := c.Prune; p != nil {
		verb := "pruned"
		if p.DryRun {
			verb = "would prune"
		}
		s += fmt.Sprintf("; %s %d %s (%s)", verb, p.Units, c.units(), config.FormatSize(p.FreedBytes))
		if p.Failed > 0 {
			s += fmt.Sprintf(", %d failed: %s", p.Failed, p.FirstError)
		}
	}
	if c.PruneSkipped != "" {
		s += "; not pruned: " + c.PruneSkipped
	}
	return s
}

// units is what a prune of the cache removes.
func (c cacheReport) units() string {
	if c.Kind == string(config.Mod) {
		return "module versions"
	}
	return "entries"
}

// emitRun journals one RUN event per watched cache.
func emitRun(sink journal.Sink, rep *runReport) {
	var reasons []string
	for _, f := range rep.Failures {
		reasons = append(reasons, f.Reason)
	}
	command := strings.Join(rep.Command, " ")
	for _, c := range rep.Caches {
		if c.NotWatched != "" {
			continue
		}
		f := map[string]string{"GOMAINT_TARGET": c.Target, "GOMAINT_CACHE_KIND": c.Kind, "GOMAINT_CACHE_PATH": c.Path,
			"GOMAINT_COMMAND": command, "GOMAINT_EXIT_STATUS": journal.Int(int64(rep.ExitStatus))}
		for k, v := range map[string]int64{"GOMAINT_HITS": c.Hits, "GOMAINT_MISSES": c.Misses, "GOMAINT_USED_ENTRIES": int64(c.UsedEntries),
			"GOMAINT_USED_DISK_BYTES": c.UsedDiskBytes, "GOMAINT_WRITTEN_DISK_BYTES": c.WrittenDiskBytes, "GOMAINT_VERSIONS_USED": int64(c.VersionsUsed)} {
			f[k] = journal.Int(v)
		}
		pri := journal.Info
		if p := c.Prune; p != nil {
			f["GOMAINT_FREED_BYTES"], f["GOMAINT_FILES"], f["GOMAINT_UNITS"] = journal.Int(p.FreedBytes), journal.Int(p.Files), journal.Int(p.Units)
			f["GOMAINT_DRY_RUN"] = journal.Bool(p.DryRun)
		}
		if c.PruneSkipped != "" {
			f["GOMAINT_PRUNE_SKIPPED"], pri = c.PruneSkipped, journal.Warning
		}
		if len(reasons) > 0 {
			f["GOMAINT_BUILD_FAILURES"] = strings.Join(reasons, ",")
		}
		journal.Emit(sink, journal.Event{Type: journal.Run, Priority: pri, Message: c.text(), Fields: f})
	}
}

// appendSummary appends the report to file as Markdown, the form of
// GitHub's $GITHUB_STEP_SUMMARY and GitLab's job summaries. The file is
// opened without following a link.
func appendSummary(file string, rep *runReport) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### gomaint run: `%s`\n\n", mdCode(strings.Join(rep.Command, " ")))
	fmt.Fprintf(&b, "Exit status %d after %.1f s", rep.ExitStatus, float64(rep.DurationMS)/1000)
	if rep.Signal != "" {
		fmt.Fprintf(&b, " (stopped by %s: nothing pruned)", rep.Signal)
	}
	b.WriteString(".\n\n| cache | hits | misses | hit ratio | used | written | size before | size after | pruned |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range rep.Caches {
		if c.NotWatched != "" {
			fmt.Fprintf(&b, "| %s | not watched: %s |||||||\n", mdCell(c.Target+" "+c.Path), mdCell(c.NotWatched))
			continue
		}
		pruned := "no"
		if c.Prune != nil {
			pruned = fmt.Sprintf("%d entries, %s", c.Prune.Units, config.FormatSize(c.Prune.FreedBytes))
		} else if c.PruneSkipped != "" {
			pruned = "skipped: " + c.PruneSkipped
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %.0f%% | %d (%s) | %d (%s) | %s | %s | %s |\n", mdCell(c.Target+" "+c.Path),
			c.Hits, c.Misses, 100*c.HitRatio, c.UsedEntries, config.FormatSize(c.UsedDiskBytes), c.WrittenEntries,
			config.FormatSize(c.WrittenDiskBytes), config.FormatSize(c.DiskBytesBefore), config.FormatSize(c.DiskBytesAfter), mdCell(pruned))
	}
	for _, fl := range rep.Failures {
		fmt.Fprintf(&b, "\n**The build failed (%s):** %s Fix: %s\n", mdCell(fl.Reason), mdCell(fl.Cause), mdCell(fl.Fix))
	}
	b.WriteString("\n")
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// mdCell makes text safe in a Markdown table cell: control characters
// escaped, and the characters that end a cell or start markup quoted.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "\\`", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`).
		Replace(safetext.Escape(s))
}

// mdCode makes text safe inside a code span.
func mdCode(s string) string { return strings.ReplaceAll(safetext.Escape(s), "`", "'") }
