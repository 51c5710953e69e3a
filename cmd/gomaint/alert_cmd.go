package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gomaint/gomaint/maint/alert"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/safetext"
)

// The alert commands: list what waits and what is open, deliver, test.

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
			Delivered  int      `json:"delivered"`
			Failed     int      `json:"failed"`
			Dropped    int      `json:"dropped"`
			Deferred   int      `json:"deferred"`
			Pending    int      `json:"pending"`
			Unreadable []string `json:"unreadable"`
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
