package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gomaint/gomaint/maint/buildfail"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/watch"
	"github.com/gomaint/gomaint/maint/workset"
)

// Exit statuses of `gomaint run` itself, as a shell gives them, when the
// command could not be started; otherwise it exits as the command did.
const (
	exitCannotRun = 126
	exitNotFound  = 127
)

// forwarded are the signals `gomaint run` passes to its command.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlags("run", stderr)
	c.register(fs)
	prune := fs.Bool("prune", false, "after the command, remove the cache entries it neither used nor wrote")
	dryRun := fs.Bool("dry-run", false, "with --prune: list what would be removed; remove nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON on standard output")
	summary := fs.String("summary", "", "append the report as Markdown to `file` (e.g. $GITHUB_STEP_SUMMARY)")
	name := fs.String("target", "", "watch only the target with this `name`")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	argv := fs.Args()
	if len(argv) == 0 {
		safetext.Fprintln(stderr, "gomaint run: no command; usage: gomaint run [--prune] [--dry-run] [--json] [--summary FILE] [--target NAME] -- COMMAND [ARGS...]")
		return exitUsage
	}
	if *dryRun && !*prune {
		safetext.Fprintln(stderr, "gomaint run: --dry-run only means something with --prune")
		return exitUsage
	}
	sink, cfg, code := c.load(fs, *name)
	if code != exitOK {
		return code
	}
	if c.log == "auto" {
		sink = journal.Auto(true) // the journal, else nothing: the report says it all
	}
	r := &runner{stderr: stderr, lockDir: paths.LockDir(c.system, os.Getenv)}
	scan := buildfail.NewScanner(os.Stderr)
	environ := os.Environ()
	guessed := r.watchAll(cfg, environ)
	var confirm func()
	status, sig, started := r.execute(argv, scan, func() {
		r.measure()
		confirm = r.askGoEnv(ctx, cfg, environ, scan, guessed)
	})
	if !started {
		r.measure()
	}
	if confirm != nil {
		confirm()
	}
	scan.Close()
	rep := &runReport{Command: argv, ExitStatus: status, DurationMS: time.Since(r.started).Milliseconds(), Failures: scan.Failures()}
	r.stop()
	if sig != nil {
		rep.Signal = sig.String()
	}
	if started && sig == nil && cfg.Daemon.MetricsDir != "" {
		// Counted whether or not a daemon runs: only the run sees the build.
		if err := metrics.BuildFailed(r.lockDir, cfg.Daemon.MetricsDir, buildfail.Reasons(status != 0, rep.Failures)); err != nil {
			safetext.Fprintf(stderr, "gomaint run: %v\n", err)
		}
	}
	for _, b := range r.builds {
		rep.Caches = append(rep.Caches, r.finish(ctx, b, *prune && sig == nil, *dryRun, stdout))
	}
	for _, m := range r.mods {
		rep.Caches = append(rep.Caches, r.finishMods(ctx, m, *prune && sig == nil, *dryRun, stdout))
	}
	rep.Caches = append(rep.Caches, r.unwatched...)
	r.print(rep, *asJSON, stdout)
	emitRun(sink, rep)
	if *summary != "" {
		if err := appendSummary(*summary, rep); err != nil {
			safetext.Fprintf(stderr, "gomaint run: --summary: %v\n", err)
		}
	}
	return status
}

// runner is one `gomaint run`: the caches it watches and the locks it
// holds while the command runs, so that no clean or limit trim removes
// what the build is using.
type runner struct {
	stderr    io.Writer
	lockDir   string
	started   time.Time
	builds    []*watchedBuild
	mods      []*watchedMods
	unwatched []cacheReport
}

type watchedBuild struct {
	rt      target.Resolved
	ws      *workset.Build
	release func() // the cache's lock, nil when another run holds it
	stopErr error  // from Stop: why the record is incomplete
}

// measure starts measuring each build cache beside the command, once it
// has started: a walk started before it delayed its start by 1 to 3 ms on
// two cores.
func (r *runner) measure() {
	for _, b := range r.builds {
		b.ws.Measure()
	}
}

// stop ends every watch once the command has, all at once (a build
// cache's waits for the walk that measured it), and frees them through a
// watch.Handoff: the kernel takes a grace period to free an inotify
// instance (6 to 20 ms), which neither the report nor the caller of
// gomaint run need wait for.
func (r *runner) stop() {
	var stopping sync.WaitGroup
	for _, b := range r.builds {
		stopping.Go(func() { b.stopErr = b.ws.Stop() })
	}
	for _, m := range r.mods {
		stopping.Go(m.stop)
	}
	stopping.Wait()
	var h watch.Handoff
	for _, b := range r.builds {
		b.ws.HandTo(&h)
	}
	for _, m := range r.mods {
		h.AddModules(m.m)
	}
	h.Close()
}

// execute runs argv with the standard streams passed through (standard
// error through errs) and the forwarded signals passed on, calling
// started once it has started, and returns its exit status as a shell
// gives it (128+N when killed by signal N), the signal gomaint itself
// received, if any, and whether it started.
func (r *runner) execute(argv []string, errs io.Writer, started func()) (int, os.Signal, bool) {
	sigs := make(chan os.Signal, len(forwarded))
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	r.started = time.Now()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, errs
	// errs is read through a pipe, which a process the command leaves
	// running keeps open: the run ends with the command, as the command
	// alone would, once what it wrote is read (orphanGrace).
	cmd.WaitDelay = orphanGrace
	if err := cmd.Start(); err != nil {
		safetext.Fprintf(r.stderr, "gomaint run: %v\n", err)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return exitNotFound, nil, false
		}
		return exitCannotRun, nil, false
	}
	started()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var got os.Signal
	for {
		select {
		case s := <-sigs:
			got = s
			cmd.Process.Signal(s)
		case <-done:
			return exitStatus(cmd.ProcessState, got), got, true
		}
	}
}

// orphanGrace is how long the run reads the command's standard error
// after the command ended, for what a process it left running writes
// there; what the command wrote itself is in the pipe by then. After it,
// such a process gets EPIPE.
const orphanGrace = 2 * time.Second

// goTempDir is where go makes its temporary files, as go decides it.
func goTempDir() string {
	for _, v := range []string{"GOTMPDIR", "TMPDIR"} {
		if d := os.Getenv(v); d != "" {
			return d
		}
	}
	return "/tmp"
}

// exitStatus is the command's status; when gomaint was itself signalled,
// 128 plus that signal, as a shell reports a job it killed.
func exitStatus(ps *os.ProcessState, got os.Signal) int {
	if s, ok := got.(syscall.Signal); ok {
		return 128 + int(s)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// finish measures the run's working set in one build cache, its watch
// stopped, and prunes the rest when asked and safe.
func (r *runner) finish(ctx context.Context, b *watchedBuild, prune, dryRun bool, stdout io.Writer) cacheReport {
	defer b.ws.Root.Close()
	set := b.ws.Set()
	rep := buildReport(b, set)
	switch {
	case !prune:
	case b.stopErr != nil:
		rep.PruneSkipped = b.stopErr.Error()
	default:
		if !r.relock(b.rt, b.ws.Root, &b.release, &rep) {
			break
		}
		res, err := b.ws.Prune(ctx, set, pruneOptions(b.rt.Name, dryRun, stdout))
		rep.Prune = res
		if err != nil {
			rep.PruneSkipped = err.Error()
		}
		if res != nil {
			rep.DiskBytesAfter -= res.FreedBytes
		}
	}
	if b.release != nil {
		b.release()
	}
	return rep
}
