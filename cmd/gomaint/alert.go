package main

import (
	"context"
	"io"
	"os"
	"slices"
	"time"

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

func cmdAlert(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		safetext.Fprintln(stderr, "gomaint: usage: gomaint alert list|flush|test [--json]")
		return exitUsage
	}
	switch args[0] {
	case "list":
		return cmdAlertList(args[1:], stdout, stderr)
	case "flush":
		return cmdAlertFlush(ctx, args[1:], stdout, stderr)
	case "test":
		return cmdAlertTest(ctx, args[1:], stdout, stderr)
	}
	safetext.Fprintf(stderr, "gomaint: unknown alert command %q; use list, flush or test\n", args[0])
	return exitUsage
}

// alertList is what `gomaint alert list --json` prints.
type alertList struct {
	Spool []*alert.Entry `json:"spool"`
	Open  []*alert.Open  `json:"open"`
	// Unreadable are spool files that are not alerts gomaint can read.
	Unreadable []string `json:"unreadable"`
}

func cmdAlertList(args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("alert list", stderr)
	c.register(fs)
	asJSON := fs.Bool("json", false, "print the spool and the open findings as JSON")
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	if _, _, code := c.load(fs, ""); code != exitOK {
		return code
	}
	var l alertList
	entries, bad, err := spoolOf(&c).Entries()
	if err != nil {
		safetext.Fprintln(stderr, "gomaint alert list:", err)
		return exitConfig
	}
	l.Spool = entries
	for _, b := range bad {
		l.Unreadable = append(l.Unreadable, b.Error())
	}
	open, err := alert.OpenFindings(paths.StateDir(c.system, os.Getenv))
	if err != nil {
		safetext.Fprintln(stderr, "gomaint alert list:", err)
	}
	l.Open = open
	if *asJSON {
		if err := writeJSON(stdout, l, true); err != nil {
			safetext.Fprintln(stderr, "gomaint alert list:", err)
		}
		return exitOK
	}
	safetext.Fprintf(stdout, "%d alerts waiting for delivery:\n", len(l.Spool))
	for _, e := range l.Spool {
		next := "now"
		if !e.Next.IsZero() {
			next = e.Next.Local().Format(time.DateTime)
		}
		safetext.Fprintf(stdout, "  %s %s %s [%s] to %s: %d attempts, next %s", e.Alert.ID[:12], e.Alert.Status, e.Alert.Code, e.Alert.Target, e.Route, e.Attempts, next)
		if e.LastError != "" {
			safetext.Fprintf(stdout, " (last: %s)", e.LastError)
		}
		safetext.Fprintln(stdout)
	}
	for _, u := range l.Unreadable {
		safetext.Fprintf(stdout, "  unreadable: %s\n", u)
	}
	safetext.Fprintf(stdout, "%d findings open:\n", len(l.Open))
	for _, o := range l.Open {
		safetext.Fprintf(stdout, "  %s %s [%s] %s since %s\n", o.Severity, o.Code, o.Target, o.Path, o.Since.Local().Format(time.DateTime))
	}
	return exitOK
}
