package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/daemon"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/target"
)

// statsTarget is one target in `gomaint stats --json`.
type statsTarget struct {
	Name       string              `json:"name"`
	Kind       string              `json:"kind"`
	Path       string              `json:"path"`
	DiskBytes  int64               `json:"disk_bytes"`
	Files      int64               `json:"files"`
	LimitBytes int64               `json:"limit_bytes"`
	Stats      *daemon.CacheStats  `json:"stats"`
	Findings   []statsFindingBrief `json:"findings"`
}

type statsFindingBrief struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}

func cmdStats(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("stats", stderr)
	c.register(fs)
	asJSON := fs.Bool("json", false, "print the counts as JSON")
	name := fs.String("target", "", "only the target with this `name`")
	zero := fs.Bool("zero", false, "start the counts since zero again (the daemon keeps them)")
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	sock := paths.Socket(c.system, os.Getenv)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if *zero {
		if _, err := daemon.Ask(ctx, sock, daemon.Request{Command: "zero", Target: *name}); errors.Is(err, daemon.ErrNoDaemon) {
			safetext.Fprintf(stderr, "gomaint stats: no gomaint daemon is running (no socket at %s): the counts are kept by gomaint serve\n", sock)
			return exitNotRunning
		} else if err != nil {
			safetext.Fprintln(stderr, "gomaint stats:", err)
			return exitConfig
		}
	}
	resp, err := daemon.Ask(ctx, sock, daemon.Request{Command: "status"})
	var out []statsTarget
	running := err == nil
	switch {
	case running:
		for _, t := range resp.Status.Targets {
			if *name == "" || t.Name == *name {
				out = append(out, fromStatus(t))
			}
		}
		if *name != "" && len(out) == 0 {
			safetext.Fprintf(stderr, "gomaint stats: the daemon has no target named %q\n", *name)
			return exitUsage
		}
	case errors.Is(err, daemon.ErrNoDaemon):
		var code int
		if out, code = statsWithoutDaemon(ctx, &c, *name, stderr); code != exitOK {
			return code
		}
	default:
		safetext.Fprintln(stderr, "gomaint stats:", err)
		return exitConfig
	}
	if *asJSON {
		writeJSON(stdout, struct {
			Running bool          `json:"running"`
			Targets []statsTarget `json:"targets"`
		}{running, nonNil(out)}, false)
		return exitOK
	}
	if !running {
		safetext.Fprintf(stdout, "no gomaint daemon is running: sizes measured now; live counts need gomaint serve (systemctl %sstart gomaint)\n\n",
			map[bool]string{true: "", false: "--user "}[c.system])
	}
	for _, t := range out {
		printStats(stdout, t, running)
	}
	return exitOK
}

func nonNil(ts []statsTarget) []statsTarget {
	if ts == nil {
		return []statsTarget{}
	}
	return ts
}

func fromStatus(t daemon.TargetStatus) statsTarget {
	st := statsTarget{Name: t.Name, Kind: t.Kind, Path: t.Path, DiskBytes: t.DiskBytes, Files: t.Files, LimitBytes: t.LimitBytes,
		Stats: t.Stats, Findings: []statsFindingBrief{}}
	// Every open finding of the target: most say why a cache works badly.
	for _, f := range t.Findings {
		st.Findings = append(st.Findings, statsFindingBrief{Code: f.Code.String(), Detail: f.Detail, Fix: f.Fix})
	}
	return st
}

// statsWithoutDaemon measures the sizes and shows the counts the last
// daemon saved, when it can read them.
func statsWithoutDaemon(ctx context.Context, c *common, name string, stderr io.Writer) ([]statsTarget, int) {
	cfg, ok := loadConfig(c, nil, stderr)
	if !ok {
		return nil, exitConfig
	}
	if name != "" && !target.Select(cfg, name) {
		safetext.Fprintf(stderr, "gomaint stats: no target named %q in %s\n", name, configName(cfg))
		return nil, exitUsage
	}
	saved, _ := daemon.SavedStats(paths.StateDir(c.system, os.Getenv), time.Now())
	resolved, _ := target.Resolve(ctx, cfg, os.Environ())
	var out []statsTarget
	for _, rt := range resolved {
		st := statsTarget{Name: rt.Name, Kind: string(rt.Kind), Path: rt.Path, LimitBytes: int64(rt.MaxSize), Stats: saved[rt.Name],
			Findings: []statsFindingBrief{}}
		if rt.Exists && rt.Path != "" {
			st.DiskBytes, st.Files, _, _ = scan.Measure(rt.Path)
		}
		out = append(out, st)
	}
	return out, exitOK
}

func printStats(w io.Writer, t statsTarget, running bool) {
	limit := "no limit"
	if t.LimitBytes > 0 {
		limit = "limit " + config.FormatSize(t.LimitBytes)
	}
	safetext.Fprintf(w, "%s  %s: %s in %d files, %s\n", t.Name, orNone(t.Path), config.FormatSize(t.DiskBytes), t.Files, limit)
	s := t.Stats
	switch {
	case s == nil:
		safetext.Fprintln(w, "  no counts: the daemon has not counted this cache")
	default:
		if running && !s.Counted {
			safetext.Fprintln(w, "  hits and misses are not counted: the daemon watches a build cache only with a max_size (or shared)")
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		safetext.Fprintf(tw, "  \tsince %s\tlast hour\tlast day\n", s.Since.Format("2006-01-02 15:04"))
		row := func(what string, f func(daemon.Counters) string) {
			safetext.Fprintf(tw, "  %s\t%s\t%s\t%s\n", what, f(s.Total), f(s.LastHour), f(s.LastDay))
		}
		n := func(f func(daemon.Counters) int64) func(daemon.Counters) string {
			return func(c daemon.Counters) string { return fmt.Sprint(f(c)) }
		}
		size := func(f func(daemon.Counters) int64) func(daemon.Counters) string {
			return func(c daemon.Counters) string { return config.FormatSize(f(c)) }
		}
		if s.Counted || !running {
			row("hits", n(func(c daemon.Counters) int64 { return c.Hits }))
			row("misses", n(func(c daemon.Counters) int64 { return c.Misses }))
			row("hit ratio", func(c daemon.Counters) string {
				if r, ok := c.HitRatio(); ok {
					return fmt.Sprintf("%.1f%%", 100*r)
				}
				return "-"
			})
			row("written", size(func(c daemon.Counters) int64 { return c.WrittenBytes }))
			row("entries created", n(func(c daemon.Counters) int64 { return c.Created }))
			row("re-created after a trim", n(func(c daemon.Counters) int64 { return c.Recreated }))
		}
		row("trims", n(func(c daemon.Counters) int64 { return c.Trims }))
		row("freed by trims", size(func(c daemon.Counters) int64 { return c.EvictedBytes }))
		tw.Flush()
		if s.Partial != "" {
			safetext.Fprintf(w, "  partial counts: %s\n", s.Partial)
		}
	}
	for _, f := range t.Findings {
		safetext.Fprintf(w, "  %s: %s\n  fix: %s\n", f.Code, f.Detail, f.Fix)
	}
	safetext.Fprintln(w)
}
