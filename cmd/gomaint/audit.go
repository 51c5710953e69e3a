package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gomaint/gomaint/maint/alert"
	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/safetext"
)

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("audit", stderr)
	c.register(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	threshold := failOnFlag(fs)
	name := fs.String("target", "", "audit only the target with this `name`")
	gorootDir := fs.String("goroot", "", "check this GOROOT instead of the resolved one")
	expect := fs.String("expect-version", "", "oldest acceptable Go `version`, e.g. go1.22")
	workers := fs.Int("workers", 0, "directories read at once (default 4 per CPU)")
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	sink, cfg, code := c.load(fs, *name)
	if code != exitOK {
		return code
	}
	req := audit.Request{Config: cfg, Environ: os.Environ(), GOROOT: *gorootDir, ExpectVersion: *expect,
		Sink: sink, Workers: *workers}
	terminal := isTerminal(os.Stdout) && !*asJSON
	if isTerminal(os.Stderr) {
		req.Progress = progress(stderr, "scanning")
	}
	rep := audit.Run(ctx, req)
	keepMetrics(ctx, &c, cfg, stderr, func(prev metrics.Snapshot) metrics.Snapshot {
		return metrics.Audited(prev, rep, *name != "", time.Now())
	})
	keepAlerts(ctx, &c, cfg, sink, stderr, rep.Findings, alert.FromReport(rep, cfg),
		alert.Looked{Audited: configured(cfg), GOROOTChecked: true}.Covers)
	if *asJSON {
		if err := writeJSON(stdout, rep, true); err != nil {
			safetext.Fprintln(stderr, "gomaint audit:", err)
		}
	} else {
		printReport(stdout, rep, terminal)
	}
	return auditStatus(rep, *threshold)
}

// auditStatus: 78 for an unusable GOROOT when it is required, else 1 for a
// finding at or above the threshold.
func auditStatus(rep *audit.Report, threshold finding.Severity) int {
	if !rep.GOROOT.OK && rep.GOROOTRequired {
		return exitConfig
	}
	worst, any := rep.Worst()
	return failStatus(worst, any, threshold)
}

// failStatus is --fail-on's verdict on a command's worst finding.
func failStatus(worst finding.Severity, any bool, threshold finding.Severity) int {
	if any && worst >= threshold {
		return exitFindings
	}
	return exitOK
}

func configName(cfg *config.Config) string {
	if cfg.File == "" {
		return "the built-in configuration"
	}
	return cfg.File
}

// progress shows a progress line for walks that take over a second.
func progress(w io.Writer, verb string) func(string, *atomic.Int64) func() {
	return func(name string, n *atomic.Int64) func() {
		done := make(chan struct{})
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			shown := false
			t := time.NewTimer(time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					if shown {
						fmt.Fprint(w, "\r\033[K")
					}
					return
				case <-t.C:
					safetext.Fprintf(w, "\r\033[K%s %s: %d entries", verb, name, n.Load())
					shown = true
					t.Reset(200 * time.Millisecond)
				}
			}
		}()
		return func() { close(done); <-finished }
	}
}

// Colours for a terminal.
var colours = map[finding.Severity]string{finding.Error: "\033[31m", finding.Warning: "\033[33m", finding.Info: "\033[36m"}

func printReport(w io.Writer, rep *audit.Report, colour bool) {
	// paint escapes text itself: the colour codes around it are gomaint's.
	paint := func(s finding.Severity, text string) safetext.Raw {
		if !colour {
			return safetext.Raw(safetext.Escape(text))
		}
		return safetext.Raw(colours[s] + safetext.Escape(text) + "\033[0m")
	}
	g := rep.GOROOT
	if g.OK {
		safetext.Fprintf(w, "GOROOT  %s (%s)\n", g.Path, g.Version)
	} else {
		safetext.Fprintf(w, "GOROOT  %s\n", paint(finding.Error, g.Reason))
	}
	for _, c := range rep.Caches {
		safetext.Fprintf(w, "%-7s %s\n", c.Name, orNone(c.Path))
		switch {
		case c.Facts == nil && !c.Exists && c.Path != "":
			safetext.Fprintf(w, "        does not exist yet (go creates it on first use)\n")
		case c.Facts == nil:
		default:
			f := c.Facts
			limit := "no limit"
			if c.LimitBytes > 0 {
				limit = "limit " + config.FormatSize(c.LimitBytes)
				if c.LimitAuto {
					limit += " (auto)"
				}
			}
			safetext.Fprintf(w, "        %s on disk (%s of data) in %d files, %d dirs; %s; owner %s\n",
				config.FormatSize(f.DiskBytes), config.FormatSize(f.ApparentBytes), f.Files, f.Dirs, limit, c.Owner)
			safetext.Fprintf(w, "        %s\n", layoutLine(c.Kind, f.Layout.Actions, f.Layout.Outputs, f.Layout.ExecDirs,
				f.Layout.Versions, f.Layout.Downloads, f.Layout.Toolchains, f.Layout.VCSDirs))
			if f.Files > 0 {
				safetext.Fprintf(w, "        last used %s .. %s\n", day(f.OldestUnix), day(f.NewestUnix))
			}
			safetext.Fprintf(w, "        %s at %s (%s), %s and %d inodes free\n",
				c.FS.Type, c.FS.MountPoint, strings.Join(c.FS.Options, ","), config.FormatSize(c.FS.FreeBytes), c.FS.FreeInodes)
		}
	}
	safetext.Fprintln(w)
	if len(rep.Findings) == 0 {
		safetext.Fprintln(w, "No findings: the caches and GOROOT are healthy.")
		return
	}
	safetext.Fprintf(w, "%d findings:\n", len(rep.Findings))
	for _, f := range rep.Findings {
		where := f.Cache
		if where == "" {
			where = "goroot"
		}
		safetext.Fprintf(w, "  %s %s [%s] %s\n", paint(f.Severity, fmt.Sprintf("%-7s", f.Severity)), f.Code, where, f.Detail)
		safetext.Fprintf(w, "          fix: %s\n", f.Fix)
	}
}

func layoutLine(kind string, actions, outputs, execs, versions, downloads, toolchains, vcs int64) string {
	if kind == "build" {
		return fmt.Sprintf("%d action entries, %d outputs, %d cached executables", actions, outputs, execs)
	}
	return fmt.Sprintf("%d module versions, %d downloads, %d toolchains, %d vcs checkouts", versions, downloads, toolchains, vcs)
}

func orNone(p string) string {
	if p == "" {
		return "(none)"
	}
	return p
}

func day(unix int64) string { return time.Unix(unix, 0).Format("2006-01-02 15:04") }
