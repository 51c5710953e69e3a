package main

import (
	"context"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/repair"
	"github.com/gomaint/gomaint/maint/safetext"
)

func cmdFix(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("fix", stderr)
	c.register(fs)
	dryRun := fs.Bool("dry-run", false, "list what would change; change nothing")
	asJSON := fs.Bool("json", false, "print JSON lines: one per change (with --dry-run) and one summary per target")
	name := fs.String("target", "", "repair only the target with this `name`")
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	sink, cfg, code := c.load(fs, *name)
	if code != exitOK {
		return code
	}
	req := repair.Request{Config: cfg, Environ: os.Environ(), DryRun: *dryRun, Sink: sink,
		LockDir: paths.LockDir(c.system, os.Getenv), StateDir: paths.StateDir(c.system, os.Getenv)}
	var mu sync.Mutex
	if *dryRun {
		req.Changed = func(t string, ch repair.Change) {
			mu.Lock()
			defer mu.Unlock()
			if *asJSON {
				writeJSON(stdout, struct {
					Target string `json:"target"`
					repair.Change
				}{t, ch}, false)
				return
			}
			if ch.What == "remove" {
				safetext.Fprintf(stdout, "would remove %s/%s: %s %s; fetch it again: %s\n", t, ch.Path, ch.Module, ch.From, ch.Refetch)
				return
			}
			safetext.Fprintf(stdout, "would change %s of %s/%s: %s -> %s\n", ch.What, t, ch.Path, ch.From, ch.To)
		}
	}
	code = exitOK
	for _, o := range repair.Run(ctx, req) {
		if o.Error != "" || o.LeftAlone() > 0 {
			code = exitFindings
		}
		if *asJSON {
			writeJSON(stdout, struct {
				Summary repair.Outcome `json:"summary"`
			}{o}, false)
			continue
		}
		printRepair(stdout, o, *dryRun, c.system)
	}
	return code
}

func printRepair(w io.Writer, o repair.Outcome, dryRun, system bool) {
	printModified(w, o, dryRun)
	if o.Result == nil {
		safetext.Fprintf(w, "%-7s %s: not repaired: %s\n", o.Target, orNone(o.Path), o.Error)
		return
	}
	verb := "gave"
	if dryRun {
		verb = "would give"
	}
	safetext.Fprintf(w, "%-7s %s: %s %d entries back to their owner and corrected %d modes\n", o.Target, orNone(o.Path), verb, o.Owners, o.Modes)
	if o.NeedRoot > 0 {
		// -E keeps HOME and GOCACHE, so root finds the same cache.
		cmd := "sudo -E gomaint fix"
		if system {
			cmd = "sudo gomaint fix --system"
		}
		safetext.Fprintf(w, "        %d entries belong to other users and need root: %s --target %s\n", o.NeedRoot, cmd, o.Target)
	}
	for _, s := range []struct {
		what string
		n    int64
		eg   []string
	}{
		{"hard-linked files left alone (never changed: they may be links to files elsewhere)", o.Hardlinked.Count, o.Hardlinked.Paths},
		{"symbolic links, never followed (go puts none in a cache)", o.Links.Count, o.Links.Paths},
		{"devices, fifos or sockets left alone", o.Special.Count, o.Special.Paths},
		{"mount points not entered", o.Mounts.Count, o.Mounts.Paths},
		{"entries that could not be read", o.Unreadable.Count, o.Unreadable.Paths},
		{"directories nested too deep to enter", o.TooDeep.Count, o.TooDeep.Paths},
		{"changes that failed", o.Failed.Count, o.Failed.Paths},
	} {
		if s.n > 0 {
			safetext.Fprintf(w, "        %d %s, e.g. %s\n", s.n, s.what, strings.Join(s.eg, ", "))
		}
	}
}

// printModified says what fix did about module versions that fail
// verification, or which key lets it act on them.
func printModified(w io.Writer, o repair.Outcome, dryRun bool) {
	if o.Kind != "mod" {
		return
	}
	m := o.Modified
	if !o.RemoveModified {
		safetext.Fprintf(w, "%-7s module versions that fail verification are left alone: remove_modified is false for this target (gomaint verify lists them)\n", o.Target)
		return
	}
	if m == nil {
		if o.Result != nil && o.Error != "" { // else printRepair says it
			safetext.Fprintf(w, "%-7s module versions that fail verification: none removed: %s\n", o.Target, o.Error)
		}
		return
	}
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	for _, r := range m.Removed {
		safetext.Fprintf(w, "%-7s %s %s (%s); fetch it again: %s\n", o.Target, verb, r.Module, r.Code, r.Refetch)
	}
	if m.Busy.Count > 0 {
		safetext.Fprintf(w, "        %d module versions left unjudged: go holds their lock or is downloading them (the next fix judges them again)%s\n", m.Busy.Count, eg(m.Busy.Paths))
	}
	if m.Failed.Count > 0 {
		safetext.Fprintf(w, "        %d module versions that fail verification could not be removed: %s\n", m.Failed.Count, strings.Join(m.Failed.Paths, "; "))
	}
}

func eg(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	return ", e.g. " + strings.Join(paths, ", ")
}
