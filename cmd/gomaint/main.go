// Command gomaint keeps Go toolchain caches healthy. This file only parses
// flags and calls the engine under maint/.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/alert"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/target"
)

// Exit statuses (docs/design.md, "Conventions").
const (
	exitOK       = 0
	exitFindings = 1  // a finding at or above --fail-on
	exitUsage    = 2  // bad command line
	exitConfig   = 78 // EX_CONFIG: configuration or environment unusable
)

// version is stamped by the build (-ldflags "-X main.version=...").
var version = ""

const usage = `gomaint keeps Go build and module caches healthy.

Usage:
  gomaint audit [--json] [--fail-on SEVERITY] [--target NAME]
  gomaint clean [--dry-run] [--json] [--target NAME] [--max-size SIZE] [--max-age DUR]
  gomaint fix [--dry-run] [--json] [--target NAME]
  gomaint verify [--json] [--full] [--fail-on SEVERITY] [--target NAME]
  gomaint protect [--dry-run]
  gomaint serve
  gomaint status [--json]
  gomaint stats [--json] [--target NAME] [--zero]
  gomaint run [--prune [--dry-run]] [--json] [--summary FILE] [--target NAME] -- COMMAND [ARGS...]
  gomaint alert list [--json]
  gomaint alert flush [--wait DUR] [--json]
  gomaint alert test [--name NAME] [--json]
  gomaint check goroot [--goroot DIR] [--expect-version goX.Y] [--json]
  gomaint config check [FILE]
  gomaint config show
  gomaint version

Flags for every command, before or after it (gomaint --config F audit):
  --config FILE   configuration file (default: ~/.config/gomaint/gomaint.toml,
                  or /etc/gomaint/gomaint.toml with --system)
  --system        work on the system configuration's targets, not your own caches
  --log WHERE     where events go: auto, journal, stderr or none (default auto)

Exit status: 0 healthy (clean: every target within its limits), 1 findings at
or above --fail-on (clean: a limit not reached, or a clean already running;
verify: also a module cache that could not be verified),
2 usage error, 3 no daemon running (status), 78 configuration or GOROOT
unusable. run exits as its command did (128+N when killed by signal N, or
when gomaint got signal N), 126 or 127 when the command could not be started.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	globals, args, err := leadingGlobals(args)
	if err != nil {
		safetext.Fprintf(stderr, "gomaint: %v\n", err)
		return exitUsage
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	// Every command parses flags after its arguments, so the global flags
	// given before the command simply go last.
	cmd, rest := args[0], append(args[1:len(args):len(args)], globals...)
	switch cmd {
	case "audit":
		return cmdAudit(ctx, rest, stdout, stderr)
	case "clean":
		return cmdClean(ctx, rest, stdout, stderr)
	case "verify":
		return cmdVerify(ctx, rest, stdout, stderr)
	case "protect":
		return cmdProtect(ctx, rest, stdout, stderr)
	case "fix":
		return cmdFix(ctx, rest, stdout, stderr)
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "status":
		return cmdStatus(ctx, rest, stdout, stderr)
	case "stats":
		return cmdStats(ctx, rest, stdout, stderr)
	case "alert":
		return cmdAlert(ctx, rest, stdout, stderr)
	case "run":
		// The arguments after the command are its own: the global flags go first.
		return cmdRun(ctx, append(globals, args[1:]...), stdout, stderr)
	case "check":
		if len(rest) == 0 || rest[0] != "goroot" {
			safetext.Fprintln(stderr, "gomaint: usage: gomaint check goroot [--goroot DIR] [--expect-version goX.Y]")
			return exitUsage
		}
		return cmdCheckGOROOT(ctx, rest[1:], stdout, stderr)
	case "config":
		return cmdConfig(rest, stdout, stderr)
	case "version", "--version":
		safetext.Fprintln(stdout, "gomaint", versionString())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	safetext.Fprintf(stderr, "gomaint: unknown command %q\n\n%s", cmd, safetext.Raw(usage))
	return exitUsage
}

// globalFlags are the flags of every command (common.register) and
// whether each takes a value.
var globalFlags = map[string]bool{"config": true, "system": false, "log": true}

// leadingGlobals takes the flags of every command off the front of args,
// as `gomaint --config F audit` gives them, and returns them and the rest.
func leadingGlobals(args []string) (globals, rest []string, err error) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		switch args[0] {
		case "-h", "--help", "--version":
			return globals, args, nil
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		takesValue, known := globalFlags[name]
		switch {
		case !known:
			return nil, nil, fmt.Errorf("%q is not a flag of every command; put it after the command, e.g. gomaint audit %s", args[0], args[0])
		case takesValue && !hasValue && len(args) < 2:
			return nil, nil, fmt.Errorf("%s needs a value", args[0])
		case takesValue && !hasValue:
			globals, args = append(globals, args[0], args[1]), args[2:]
		default:
			globals, args = append(globals, args[0]), args[1:]
		}
	}
	return globals, args, nil
}

// common holds the flags every command takes.
type common struct {
	config string
	system bool
	log    string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "configuration `file`")
	fs.BoolVar(&c.system, "system", false, "work on the system configuration's targets")
	fs.StringVar(&c.log, "log", "auto", "where events go: auto, journal, stderr or none")
}

func (c *common) scope() config.Scope {
	if c.system {
		return config.System
	}
	return config.User
}

// newFlags makes a flag set that reports errors without exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("gomaint "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, allowing flags after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseNoArgs parses the flags of a command that takes no positional
// argument, and names the first one given; false means exit 2.
func parseNoArgs(fs *flag.FlagSet, args []string) bool {
	pos, err := parse(fs, args)
	if err == nil && len(pos) > 0 {
		safetext.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), pos[0])
	}
	return err == nil && len(pos) == 0
}

// load is how every command that reads the configuration starts: the
// event sink --log asks for, then the configuration, a rejection printed
// and journaled, narrowed to the target --target names ("" for all). A
// non-zero code ends the command with it.
func (c *common) load(fs *flag.FlagSet, name string) (journal.Sink, *config.Config, int) {
	sink, err := sinkFor(c.log)
	if err != nil {
		safetext.Fprintf(fs.Output(), "%s: %v\n", fs.Name(), err)
		return nil, nil, exitUsage
	}
	cfg, ok := loadConfig(c, sink, fs.Output())
	if !ok {
		return nil, nil, exitConfig
	}
	if name != "" && !target.Select(cfg, name) {
		safetext.Fprintf(fs.Output(), "%s: no target named %q in %s\n", fs.Name(), name, configName(cfg))
		return nil, nil, exitUsage
	}
	return sink, cfg, exitOK
}

// failOnFlag is --fail-on of the commands that report findings: the
// severity at which they exit 1.
func failOnFlag(fs *flag.FlagSet) *finding.Severity {
	s := new(finding.Severity)
	fs.TextVar(s, "fail-on", finding.Error, "exit 1 when a finding is at least this `severity` (info, warning, error)")
	return s
}

// loadConfig loads the configuration, printing any rejection and sending a
// config event; ok is false when the caller must exit 78.
func loadConfig(c *common, sink journal.Sink, stderr io.Writer) (*config.Config, bool) {
	cfg, err := alert.LoadConfig(c.scope(), c.config, os.Getenv)
	if err == nil {
		return cfg, true
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		safetext.Fprintln(stderr, "gomaint: "+line)
	}
	journal.ConfigRejected(sink, journal.ConfigInvalid, err)
	return nil, false
}

// sinkFor returns the event sink --log asks for.
func sinkFor(where string) (journal.Sink, error) {
	switch where {
	case "auto":
		return journal.Auto(isTerminal(os.Stderr)), nil
	case "journal":
		return journal.Journald{}, nil
	case "stderr":
		return &journal.Lines{W: os.Stderr}, nil
	case "none":
		return journal.Discard{}, nil
	}
	return nil, fmt.Errorf("--log %q: use auto, journal, stderr or none", where)
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel-" + s.Value[:12]
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "devel"
}
