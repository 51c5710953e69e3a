package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
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

func cmdAlertFlush(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("alert flush", stderr)
	c.register(fs)
	asJSON := fs.Bool("json", false, "print what was delivered as JSON")
	wait := fs.Duration("wait", 0, "deliver what is due, then keep retrying what fails for up to this `duration` (gomaint-alert.service); without it, try every waiting alert now")
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	sink, cfg, code := c.load(fs, "")
	if code != exitOK {
		return code
	}
	routes, ok := senders(cfg, stderr, "alert flush")
	if !ok {
		return exitConfig
	}
	res, err := alert.Flush(ctx, spoolOf(&c), routes, alert.FlushOptions{All: *wait == 0, Wait: *wait, Version: versionString(), Sink: sink})
	if *asJSON {
		out := struct {
			Delivered, Failed, Dropped, Deferred, Pending int
			Unreadable                                    []string
		}{res.Delivered, res.Failed, res.Dropped, res.Deferred, res.Pending, nil}
		for _, b := range res.Bad {
			out.Unreadable = append(out.Unreadable, b.Error())
		}
		writeJSON(stdout, out, true)
	} else {
		safetext.Fprintf(stdout, "%d delivered, %d failed (to retry), %d dropped, %d deferred; %d waiting\n",
			res.Delivered, res.Failed, res.Dropped, res.Deferred, res.Pending)
		for _, b := range res.Bad {
			safetext.Fprintf(stdout, "unreadable: %s\n", b.Error())
		}
	}
	if err != nil {
		safetext.Fprintln(stderr, "gomaint alert flush:", err)
		return exitFindings
	}
	// 1: an alert was given up, or one that failed still waits; a failed
	// attempt that a later one in the same run made good is not a failure.
	if res.Dropped > 0 || (res.Failed > 0 && res.Pending > 0) {
		return exitFindings
	}
	return exitOK
}

func cmdAlertTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("alert test", stderr)
	c.register(fs)
	asJSON := fs.Bool("json", false, "print each route's answer as JSON")
	name := fs.String("name", "", "send through this `route` only")
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	sink, cfg, code := c.load(fs, "")
	if code != exitOK {
		return code
	}
	routes, ok := senders(cfg, stderr, "alert test")
	if !ok {
		return exitConfig
	}
	results, err := alert.TestAlert(ctx, routes, *name, versionString(), sink)
	if err != nil {
		safetext.Fprintln(stderr, "gomaint alert test:", err)
		return exitUsage
	}
	type answer struct {
		Route      string `json:"route"`
		Receiver   string `json:"receiver"`
		Outcome    string `json:"outcome"`
		HTTPStatus int    `json:"http_status,omitempty"`
		ExitStatus *int   `json:"exit_status,omitempty"`
		Error      string `json:"error,omitempty"`
		Millis     int64  `json:"duration_ms"`
	}
	var answers []answer
	status := exitOK
	for _, r := range results {
		a := answer{Route: r.Route, Receiver: r.Receiver, Outcome: r.Attempt.Outcome, HTTPStatus: r.Attempt.HTTPStatus, Millis: r.Attempt.Duration.Milliseconds()}
		for _, rt := range routes {
			if rt.Name == r.Route && len(rt.Exec) > 0 {
				a.ExitStatus = &r.Attempt.ExitStatus
			}
		}
		if r.Attempt.Err != nil {
			a.Error = r.Attempt.Err.Error()
			status = exitFindings
		}
		answers = append(answers, a)
	}
	if *asJSON {
		writeJSON(stdout, answers, true)
		return status
	}
	for _, a := range answers {
		how := ""
		switch {
		case a.ExitStatus != nil:
			how = fmt.Sprintf("exit status %d", *a.ExitStatus)
		case a.HTTPStatus != 0:
			how = fmt.Sprintf("HTTP %d", a.HTTPStatus)
		default:
			how = "no answer"
		}
		safetext.Fprintf(stdout, "%-12s %s: %s, %s in %dms", a.Route, a.Receiver, a.Outcome, how, a.Millis)
		if a.Error != "" {
			safetext.Fprintf(stdout, ": %s", a.Error)
		}
		safetext.Fprintln(stdout)
	}
	return status
}
