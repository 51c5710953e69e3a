package main

import (
	"context"
	"io"
	"os"

	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/protect"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/tmpfiles"
)

// cmdProtect writes `x` lines so that systemd-tmpfiles never ages the
// configured caches: system scope to /etc/tmpfiles.d/gomaint-local.conf,
// user scope to ~/.config/user-tmpfiles.d/gomaint.conf.
func cmdProtect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("protect", stderr)
	c.register(fs)
	dryRun := fs.Bool("dry-run", false, "say what would be written; write nothing")
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	_, cfg, code := c.load(fs, "")
	if code != exitOK {
		return code
	}
	file := paths.SystemTmpfiles
	if !c.system {
		file = paths.UserTmpfiles(os.Getenv)
	}
	if file == "" {
		safetext.Fprintf(stderr, "gomaint protect: no place for the user's tmpfiles.d exclusions: set XDG_CONFIG_HOME or HOME\n")
		return exitConfig
	}
	resolved, _ := target.Resolve(ctx, cfg, os.Environ())
	var ex []protect.Exclusion
	code = exitOK
	for _, rt := range resolved {
		switch {
		case rt.Path == "":
			safetext.Fprintf(stdout, "%-7s has no cache path; nothing to protect\n", rt.Name)
		case !protect.Needed(rt.Path):
			safetext.Fprintf(stdout, "%-7s %s: protected by the packaged tmpfiles.d/gomaint.conf\n", rt.Name, rt.Path)
		default:
			// A path no tmpfiles.d line can hold is refused, and the file
			// is written without it: the other targets stay protected.
			if _, err := protect.Line(rt.Path); err != nil {
				safetext.Fprintf(stderr, "gomaint protect: target %s: %v\n", rt.Name, err)
				code = exitConfig
				continue
			}
			ex = append(ex, protect.Exclusion{Target: rt.Name, Path: rt.Path})
		}
	}
	changed, dropped, err := protect.Apply(file, ex, *dryRun)
	if err != nil {
		safetext.Fprintf(stderr, "gomaint protect: %s: %v\n", file, err)
		return exitFindings
	}
	verb := map[bool]string{false: "wrote", true: "would write"}[*dryRun]
	for _, line := range dropped {
		safetext.Fprintf(stderr, "gomaint protect: %s: %s %q, found among the lines an older gomaint wrote (where a path with a newline could add lines); if it is yours, add it again outside the gomaint block\n",
			file, map[bool]string{false: "dropped", true: "would drop"}[*dryRun], line)
	}
	for _, e := range ex {
		line, _ := protect.Line(e.Path)
		if changed {
			safetext.Fprintf(stdout, "%-7s %s: %s %s to %s\n", e.Target, e.Path, verb, line, file)
		} else {
			safetext.Fprintf(stdout, "%-7s %s: already excluded in %s\n", e.Target, e.Path, file)
		}
	}
	if !c.system {
		warnSystemRules(ctx, stdout, ex)
	}
	return code
}

// warnSystemRules: a user's x lines do not stop the system's own cleaning.
func warnSystemRules(ctx context.Context, w io.Writer, ex []protect.Exclusion) {
	rules, err := tmpfiles.Load(ctx, false, tmpfiles.SystemSpecifiers(), os.Environ())
	if err != nil {
		return
	}
	for _, e := range ex {
		if v := tmpfiles.Judge(rules, e.Path); !v.Protected() {
			line, _ := protect.Line(e.Path)
			safetext.Fprintf(w, "        but the system rule %s:%d (%s %s) also cleans it; as root: echo %s | sudo tee -a %s\n",
				v.Cleaner.File, v.Cleaner.Line, v.Cleaner.Type, v.Cleaner.Path, safetext.ShellQuote(line), paths.SystemTmpfiles)
		}
	}
}
