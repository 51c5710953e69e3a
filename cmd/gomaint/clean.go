package main

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/clean"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/daemon"
	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/trim"
)

func cmdClean(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("clean", stderr)
	c.register(fs)
	dryRun := fs.Bool("dry-run", false, "list what would be removed; remove nothing")
	asJSON := fs.Bool("json", false, "print JSON lines: one per removal (with --dry-run) and one summary per target")
	name := fs.String("target", "", "clean only the target with this `name`")
	maxSize := fs.String("max-size", "", "override every target's max_size, e.g. 10GiB")
	maxAge := fs.String("max-age", "", "override every target's max_age, e.g. 30d")
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	req := clean.Request{Environ: os.Environ(), DryRun: *dryRun, LockDir: paths.LockDir(c.system, os.Getenv)}
	if *maxSize != "" {
		s, err := config.ParseSize(*maxSize)
		if err != nil || s == 0 {
			safetext.Fprintf(stderr, "gomaint clean: --max-size: %v\n", orZero(err, "must be above 0"))
			return exitUsage
		}
		req.MaxSize = int64(s)
	}
	if *maxAge != "" {
		d, err := config.ParseDuration(*maxAge)
		if err != nil || time.Duration(d) < config.MinMinAge {
			safetext.Fprintf(stderr, "gomaint clean: --max-age: %v\n", orZero(err, "must be at least 1h"))
			return exitUsage
		}
		req.MaxAge = time.Duration(d)
	}
	sink, cfg, code := c.load(fs, *name)
	if code != exitOK {
		return code
	}
	if !*dryRun && *maxSize == "" && *maxAge == "" && c.config == "" {
		if code, handed := handOff(ctx, &c, *name, *asJSON, stdout, stderr); handed {
			return code
		}
	}
	req.Config, req.Sink, req.Trigger = cfg, sink, "cli"
	if isTerminal(os.Stderr) {
		req.Progress = progress(stderr, "cleaning")
	}
	var mu sync.Mutex
	if *dryRun { // a real run journals its totals; listing every removal would cost more than removing
		req.Removed = func(t string, r trim.Removal) {
			mu.Lock()
			defer mu.Unlock()
			if *asJSON {
				writeJSON(stdout, struct {
					Target string `json:"target"`
					trim.Removal
				}{t, r}, false)
			} else {
				safetext.Fprintf(stdout, "would remove %s %s/%s (%s, last used %s)\n", r.Unit, t, r.Path, config.FormatSize(r.DiskBytes), day(r.LastUsed))
			}
		}
	}
	resolved, env := target.Resolve(ctx, cfg, req.Environ)
	req.Resolved = resolved
	outs := clean.Run(ctx, req)
	if !*dryRun {
		keepMetrics(ctx, &c, cfg, stderr, func(prev metrics.Snapshot) metrics.Snapshot {
			limits := map[string]int64{}
			for _, rt := range resolved {
				limits[rt.Name] = int64(rt.MaxSize)
			}
			gr := audit.CheckGOROOT(ctx, cfg, req.Environ, env)
			return metrics.Cleaned(prev, outs, limits, gr, cfg.GOROOT.Required, time.Now())
		})
	}
	return printOutcomes(stdout, outs, *asJSON, *dryRun)
}

// printOutcomes prints one summary per target, as text or JSON lines, and
// returns the exit status: 1 when a target did not end within its limits.
func printOutcomes(w io.Writer, outs []clean.Outcome, asJSON, dryRun bool) int {
	code := exitOK
	for _, o := range outs {
		if !o.OK() {
			code = exitFindings
		}
		if asJSON {
			writeJSON(w, struct {
				Summary clean.Outcome `json:"summary"`
			}{o}, false)
			continue
		}
		printOutcome(w, o, dryRun)
	}
	return code
}

// handOff gives a plain clean to a running daemon, which holds the same
// locks and journals the same TRIM events; the timer's `gomaint clean`
// thus never races the daemon. handed is false when no daemon runs.
func handOff(ctx context.Context, c *common, name string, asJSON bool, stdout, stderr io.Writer) (code int, handed bool) {
	resp, err := daemon.Ask(ctx, paths.Socket(c.system, os.Getenv), daemon.Request{Command: "clean", Target: name})
	switch {
	case errors.Is(err, daemon.ErrNoDaemon):
		return 0, false
	case errors.Is(err, daemon.ErrNoAnswer):
		safetext.Fprintf(stderr, "gomaint clean: %v; the clean may be partial: run it again\n", err)
		return exitFindings, true
	case err != nil && resp == nil:
		safetext.Fprintf(stderr, "gomaint clean: the daemon did not take the clean (%v); cleaning here\n", err)
		return 0, false
	case err != nil:
		safetext.Fprintln(stderr, "gomaint clean: the daemon refused:", err)
		return exitFindings, true
	}
	if !asJSON {
		safetext.Fprintln(stdout, "cleaned by the running gomaint daemon:")
	}
	return printOutcomes(stdout, resp.Outcomes, asJSON, false), true
}

func printOutcome(w io.Writer, o clean.Outcome, dryRun bool) {
	if o.Result == nil {
		safetext.Fprintf(w, "%-7s %s: not cleaned: %s\n", o.Target, orNone(o.Path), o.Error)
		return
	}
	r := o.Result
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	safetext.Fprintf(w, "%-7s %s: %s %s in %d files", o.Target, orNone(o.Path), verb, config.FormatSize(r.FreedBytes), r.Files)
	if r.Versions > 0 {
		safetext.Fprintf(w, " (%d module versions)", r.Versions)
	}
	safetext.Fprintf(w, "; %s -> %s; policy %s\n", config.FormatSize(r.DiskBytesBefore), config.FormatSize(r.DiskBytesAfter), r.Policy)
	if r.Skipped > 0 {
		safetext.Fprintf(w, "        skipped %d in use by go (lock held)\n", r.Skipped)
	}
	if r.Blocked != "" {
		safetext.Fprintf(w, "        still over its limit: %s\n", r.Blocked)
	}
	if r.AtimeNote != "" {
		safetext.Fprintf(w, "        note: %s\n", r.AtimeNote)
	}
	if r.Failed > 0 {
		safetext.Fprintf(w, "        %d removals failed, first: %s\n", r.Failed, r.FirstError)
	}
}

func orZero(err error, otherwise string) string {
	if err != nil {
		return err.Error()
	}
	return otherwise
}
