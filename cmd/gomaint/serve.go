package main

import (
	"context"
	"io"
	"os"

	"github.com/gomaint/gomaint/maint/daemon"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/safetext"
)

// cmdServe runs the daemon until SIGTERM or SIGINT.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("serve", stderr)
	c.register(fs)
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	sink, err := sinkFor(c.log)
	if err != nil {
		safetext.Fprintln(stderr, "gomaint serve:", err)
		return exitUsage
	}
	if _, quiet := sink.(journal.Discard); quiet && c.log == "auto" {
		// A daemon has no report of its own: in a terminal its events are
		// all there is to read.
		sink = &journal.Lines{W: stderr}
	}
	return daemon.Run(ctx, daemon.Options{Scope: c.scope(), ConfigFile: c.config, Environ: os.Environ(),
		Sink: sink, Version: versionString()})
}
