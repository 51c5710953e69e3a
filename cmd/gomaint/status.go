package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/daemon"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/safetext"
)

// exitNotRunning is what `gomaint status` returns when no daemon runs,
// as LSB status actions and `systemctl status` do.
const exitNotRunning = 3

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("status", stderr)
	c.register(fs)
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	sock := paths.Socket(c.system, os.Getenv)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := daemon.Ask(ctx, sock, daemon.Request{Command: "status"})
	running := err == nil
	var st *daemon.Status
	switch {
	case running:
		st = resp.Status
	case errors.Is(err, daemon.ErrNoDaemon):
		dir := paths.StateDir(c.system, os.Getenv)
		if st, err = daemon.LoadStatus(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			safetext.Fprintln(stderr, "gomaint status:", err)
		}
		if st == nil && !*asJSON {
			safetext.Fprintf(stdout, "no gomaint daemon is running (no socket at %s), and none has saved a status in %s\n", sock, dir)
			safetext.Fprintf(stdout, "start it with: systemctl %sstart gomaint\n", map[bool]string{true: "", false: "--user "}[c.system])
		}
	default:
		safetext.Fprintln(stderr, "gomaint status:", err)
		return exitConfig
	}
	if *asJSON {
		writeJSON(stdout, struct {
			Running bool           `json:"running"`
			Status  *daemon.Status `json:"status"`
		}{running, st}, false)
	} else if st != nil {
		if !running {
			safetext.Fprintf(stdout, "no gomaint daemon is running; its last status, saved %s:\n\n", st.Updated.Format("2006-01-02 15:04:05"))
		}
		printStatus(stdout, st, running)
	}
	if !running {
		return exitNotRunning
	}
	return exitOK
}

func printStatus(w io.Writer, st *daemon.Status, running bool) {
	state := st.State
	if !running {
		state = "was " + state
	}
	safetext.Fprintf(w, "daemon  pid %d, %s, version %s, started %s\n", st.PID, state, st.Version, st.Started.Format("2006-01-02 15:04"))
	safetext.Fprintf(w, "config  %s (%s scope)\n", st.Config, st.Scope)
	if st.LowIO != "" {
		safetext.Fprintf(w, "low_io  on (%s): fewer audits and rescans\n", st.LowIO)
	}
	if st.GOROOT.OK {
		safetext.Fprintf(w, "GOROOT  %s (%s)\n", st.GOROOT.Path, st.GOROOT.Version)
	} else if !st.GOROOT.Code.IsZero() {
		safetext.Fprintf(w, "GOROOT  %s: %s\n", st.GOROOT.Code, st.GOROOT.Reason)
	}
	if st.GOROOTVerify != "" {
		safetext.Fprintf(w, "        last verification: %s\n", st.GOROOTVerify)
	}
	for _, f := range st.Findings {
		safetext.Fprintf(w, "        %-7s %s: %s\n        fix: %s\n", f.Severity, f.Code, f.Detail, f.Fix)
	}
	for _, t := range st.Targets {
		size := fmt.Sprintf("%s on disk in %d files", config.FormatSize(t.DiskBytes), t.Files)
		if t.LimitBytes > 0 {
			size += ", limit " + config.FormatSize(t.LimitBytes)
		} else {
			size += ", no limit"
		}
		how := "as of the last scan"
		switch {
		case t.Watch == "degraded":
			how = "watch degraded, enforced by rescans: " + t.WatchDetail
		case t.Watch == "absent":
			how = "not watched: " + t.WatchDetail
		case t.Watched:
			how = "live"
		}
		safetext.Fprintf(w, "%-7s %s: %s (%s)\n", t.Name, orNone(t.Path), size, how)
		safetext.Fprintf(w, "        last audit %s, last clean %s", when(t.LastAudit), when(t.LastClean))
		if t.LastCleanResult != "" {
			safetext.Fprintf(w, " (%s)", t.LastCleanResult)
		}
		safetext.Fprintln(w)
		if !t.LastVerify.IsZero() {
			safetext.Fprintf(w, "        last verification %s, last without an error %s\n", when(t.LastVerify), when(t.LastVerifySuccess))
			if t.LastVerifyResult != "" {
				safetext.Fprintf(w, "        verified: %s\n", t.LastVerifyResult)
			}
		}
		if t.UsesRecorded > 0 {
			safetext.Fprintf(w, "        %d uses recorded for the group\n", t.UsesRecorded)
		}
		if t.Error != "" {
			safetext.Fprintf(w, "        error: %s\n", t.Error)
		}
		for _, f := range t.Findings {
			safetext.Fprintf(w, "        %-7s %s: %s\n", f.Severity, f.Code, f.Detail)
		}
	}
	nextClean := when(st.NextClean)
	if st.NextClean.IsZero() {
		nextClean = "not scheduled here (gomaint-clean.timer cleans)"
	}
	safetext.Fprintf(w, "next    audit %s, clean %s\n", when(st.NextAudit), nextClean)
	if st.Running != "" {
		safetext.Fprintf(w, "now     %s\n", st.Running)
	}
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format("2006-01-02 15:04")
}
