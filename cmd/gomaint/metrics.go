package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/daemon"
	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/safetext"
)

// keepMetrics rewrites gomaint.prom in dir after a CLI run, when dir is
// set and no daemon runs in the scope: a running daemon writes the file
// after its own runs, and two writers would fight over its counters.
// next turns what the file said before into what it says now.
func keepMetrics(ctx context.Context, c *common, cfg *config.Config, stderr io.Writer, next func(prev metrics.Snapshot) metrics.Snapshot) {
	dir := cfg.Daemon.MetricsDir
	if dir == "" || daemonRunning(ctx, c) {
		return
	}
	// A timer's clean and a cron audit may end together: one reads and
	// rewrites the file at a time, or one's figures would be lost.
	release, err := metrics.Lock(paths.LockDir(c.system, os.Getenv))
	if err != nil {
		safetext.Fprintf(stderr, "gomaint: %s not updated: %v\n", metrics.FileName, err)
		return
	}
	defer release()
	prev, err := metrics.Read(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		safetext.Fprintf(stderr, "gomaint: %v; writing it afresh\n", err)
	}
	s := next(prev)
	if n := notifier(c, cfg, nil); n != nil {
		sent, waiting, err := n.Spool.Figures(n.Routes)
		if err != nil {
			safetext.Fprintln(stderr, "gomaint:", err)
		}
		s.Alerts = &metrics.Alerts{Sent: sent, SpoolFiles: waiting}
	}
	if err := metrics.Write(dir, s); err != nil {
		safetext.Fprintln(stderr, "gomaint:", err)
	}
}

// daemonRunning reports whether a daemon answers on the scope's control
// socket (or refuses to: it runs all the same).
func daemonRunning(ctx context.Context, c *common) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := daemon.Ask(ctx, paths.Socket(c.system, os.Getenv), daemon.Request{Command: "status"})
	return !errors.Is(err, daemon.ErrNoDaemon)
}
