package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/BurntSushi/toml"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/target"
)

// cmdCheckGOROOT prints one line and exits 0 or 78. It is meant for
// ExecStartPre= in other units, so the line must read well in
// `systemctl status`. --verify and --record go on to checkBaseline.
func cmdCheckGOROOT(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("check goroot", stderr)
	c.register(fs)
	dir := fs.String("goroot", "", "check this `directory` instead of the resolved GOROOT")
	expect := fs.String("expect-version", "", "oldest acceptable Go `version`, e.g. go1.22")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	verify := fs.Bool("verify", false, "also verify every file against the baseline (dpkg's md5sums, or the recorded one)")
	record := fs.Bool("record", false, "record the baseline of a GOROOT no package manager installed")
	if !parseNoArgs(fs, args) {
		return exitUsage
	}
	if *verify && *record {
		safetext.Fprintln(stderr, "gomaint check goroot: --verify and --record exclude each other")
		return exitUsage
	}
	sink, cfg, code := c.load(fs, "")
	if code != exitOK {
		return code
	}
	if _, ok := config.ParseGoVersion(*expect); *expect != "" && !ok {
		safetext.Fprintf(stderr, "gomaint check goroot: --expect-version %q is not a Go version such as go1.22\n", *expect)
		return exitUsage
	}
	res := goroot.Check(ctx, goroot.Configured(cfg.GOROOT, *dir, *expect, os.Environ(),
		func() discover.Env { return discover.Resolve(ctx, os.Environ()) }))
	goroot.Emit(sink, res)
	if res.OK && (*verify || *record) {
		return checkBaseline(ctx, sink, res, *record, *asJSON, stdout, stderr)
	}
	if *asJSON {
		writeJSON(stdout, res, false)
	} else if res.OK {
		safetext.Fprintf(stdout, "GOROOT %s is usable: %s\n", res.Path, res.Version)
	} else {
		safetext.Fprintf(stderr, "gomaint: %s: %s; fix: %s\n", res.Code, res.Reason, res.Fix)
	}
	if !res.OK {
		return exitConfig
	}
	return exitOK
}

func cmdConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "check" && args[0] != "show") {
		safetext.Fprintln(stderr, "gomaint: usage: gomaint config check [FILE] | gomaint config show")
		return exitUsage
	}
	var c common
	fs := newFlags("config "+args[0], stderr)
	c.register(fs)
	pos, err := parse(fs, args[1:])
	if err != nil {
		return exitUsage
	}
	if args[0] == "check" && len(pos) == 1 {
		c.config = pos[0]
	} else if len(pos) > 0 {
		safetext.Fprintf(stderr, "gomaint config %s: unexpected argument %q\n", args[0], pos[len(pos)-1])
		return exitUsage
	}
	_, cfg, code := c.load(fs, "")
	if code != exitOK {
		return code
	}
	if args[0] == "check" {
		safetext.Fprintf(stdout, "%s: ok, %d targets\n", configName(cfg), len(cfg.Targets))
		return exitOK
	}
	safetext.Fprintf(stdout, "# effective %s configuration, from %s\n", cfg.Scope, configName(cfg))
	if err := toml.NewEncoder(stdout).Encode(cfg.Redacted()); err != nil {
		safetext.Fprintln(stderr, "gomaint config show:", err)
		return exitConfig
	}
	showAutoLimits(stdout, cfg)
	return exitOK
}

// showAutoLimits says what max_size "auto" comes to for each target that
// has it, as a comment, so the shown file still checks.
func showAutoLimits(w io.Writer, cfg *config.Config) {
	resolved, _ := target.Resolve(context.Background(), cfg, os.Environ())
	header := false
	for _, rt := range resolved {
		if !rt.AutoLimit {
			continue
		}
		if !header {
			fmt.Fprintf(w, "\n# max_size \"auto\" is %d%% of the file system the cache is on, at most %s; here:\n",
				config.AutoPercent, config.FormatSize(config.AutoCap))
			header = true
		}
		safetext.Fprintf(w, "#   %-6s %s: %s\n", rt.Name, orNone(rt.Path), config.FormatSize(int64(rt.MaxSize)))
	}
}
