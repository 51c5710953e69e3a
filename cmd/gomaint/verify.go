package main

import (
	"context"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/verify"
)

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("verify", stderr)
	c.register(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	threshold := failOnFlag(fs)
	name := fs.String("target", "", "verify only the target with this `name`")
	full := fs.Bool("full", false, "hash every module version, not only those new or changed since the last run")
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	sink, cfg, code := c.load(fs, *name)
	if code != exitOK {
		return code
	}
	if err := verify.Gentle(); err != nil { // slower, never wrong: go on
		safetext.Fprintln(stderr, "gomaint verify: lowering priority:", err)
	}
	rep := verify.Run(ctx, verify.Request{Config: cfg, Environ: os.Environ(), Sink: sink, Full: *full,
		StateDir: paths.StateDir(c.system, os.Getenv)})
	keepMetrics(ctx, &c, cfg, stderr, func(prev metrics.Snapshot) metrics.Snapshot {
		return metrics.Verified(prev, rep, time.Now())
	})
	alertVerify(ctx, &c, cfg, sink, stderr, rep)
	if *asJSON {
		if err := writeJSON(stdout, rep, true); err != nil {
			safetext.Fprintln(stderr, "gomaint verify:", err)
		}
	} else {
		printVerify(stdout, rep)
	}
	worst, any := rep.Worst()
	if rep.Failed() {
		return exitFindings
	}
	return failStatus(worst, any, *threshold)
}

func printVerify(w io.Writer, rep *verify.Report) {
	for _, c := range rep.Caches {
		safetext.Fprintf(w, "%-7s %s: %s\n", c.Target, orNone(c.Path), c.Summary(countFor(rep, c.Target)))
	}
	if rep.StateError != "" {
		safetext.Fprintf(w, "Not remembered for the next run, which hashes these versions again: %s\n", rep.StateError)
	}
	if len(rep.Findings) == 0 {
		safetext.Fprintln(w, "No findings: every module version verified.")
		return
	}
	safetext.Fprintf(w, "%d findings:\n", len(rep.Findings))
	for _, f := range rep.Findings {
		safetext.Fprintf(w, "  %-7s %s [%s] %s: %s\n", f.Severity, f.Code, f.Cache, f.Module, f.Detail)
		if len(f.Files) > 0 {
			safetext.Fprintf(w, "          files: %s\n", strings.Join(f.Files, ", "))
		}
		safetext.Fprintf(w, "          fix: %s\n", f.Fix)
	}
}

func countFor(rep *verify.Report, target string) int {
	n := 0
	for _, f := range rep.Findings {
		if f.Cache == target {
			n++
		}
	}
	return n
}
