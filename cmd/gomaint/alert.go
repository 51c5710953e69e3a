package main

import (
	"context"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/gomaint/gomaint/maint/alert"
	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/verify"
)

// notifier is the scope's alert producer for cfg; nil without routes.
func notifier(c *common, cfg *config.Config, sink journal.Sink) *alert.Notifier {
	routes, _ := alert.Routes(cfg) // checked when c.load loaded cfg
	if len(routes) == 0 {
		return nil
	}
	return &alert.Notifier{Routes: routes, StateDir: paths.StateDir(c.system, os.Getenv), LockDir: paths.LockDir(c.system, os.Getenv),
		Spool: spoolOf(c), Sink: sink, Version: versionString()}
}

func spoolOf(c *common) alert.Spool {
	return alert.Spool{Dir: paths.AlertSpool(paths.StateDir(c.system, os.Getenv))}
}

// keepAlerts spools the alerts of a CLI run's findings, when no daemon runs
// in the scope: a running daemon alerts on its own runs, and two producers
// would resolve and re-fire each other's findings. covers says what the run
// looked at.
func keepAlerts(ctx context.Context, c *common, cfg *config.Config, sink journal.Sink, stderr io.Writer,
	findings []audit.Finding, targets []alert.Target, covers alert.Covers) {
	n := notifier(c, cfg, sink)
	if n == nil || daemonRunning(ctx, c) {
		return
	}
	if _, err := n.Notify(findings, targets, covers); err != nil {
		safetext.Fprintln(stderr, "gomaint:", err)
	}
	if !c.system {
		// No gomaint-alert.service may run for a user: deliver now what is
		// due, as the user's own process, which has the user's network.
		flushDue(ctx, c, cfg, sink, stderr)
	}
}

// configured reports whether a target is in cfg (narrowed by --target).
func configured(cfg *config.Config) func(string) bool {
	return func(name string) bool {
		return slices.ContainsFunc(cfg.Targets, func(t config.Target) bool { return t.Name == name })
	}
}

// alertVerify spools the alerts of a verification: it covers the module
// caches it could read.
func alertVerify(ctx context.Context, c *common, cfg *config.Config, sink journal.Sink, stderr io.Writer, rep *verify.Report) {
	var fs []audit.Finding
	for _, f := range rep.Findings {
		fs = append(fs, audit.VerifyFinding(f))
	}
	var targets []alert.Target
	read := map[string]bool{}
	for _, cr := range rep.Caches {
		read[cr.Target] = cr.Error == ""
		targets = append(targets, alert.Target{Name: cr.Target, ConfiguredPath: cr.Path, Path: cr.Path})
	}
	keepAlerts(ctx, c, cfg, sink, stderr, fs, targets, alert.Looked{Verified: func(t string) bool { return read[t] }}.Covers)
}

// senders loads the routes with their URLs, for the commands that deliver.
func senders(cfg *config.Config, stderr io.Writer, cmd string) ([]alert.Route, bool) {
	routes, err := alert.Senders(cfg, os.Getenv)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			safetext.Fprintf(stderr, "gomaint %s: %s\n", cmd, line)
		}
		return nil, false
	}
	return routes, true
}

// flushDue delivers what is due in a user's spool, once, after a CLI run.
func flushDue(ctx context.Context, c *common, cfg *config.Config, sink journal.Sink, stderr io.Writer) {
	routes, ok := senders(cfg, stderr, "alert")
	if !ok {
		return
	}
	if _, err := alert.Flush(ctx, spoolOf(c), routes, alert.FlushOptions{Version: versionString(), Sink: sink}); err != nil {
		safetext.Fprintln(stderr, "gomaint: alerts:", err)
	}
}
