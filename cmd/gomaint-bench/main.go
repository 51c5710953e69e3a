// Command gomaint-bench times `gomaint audit` against `du -sb` and `gdu -n`
// on a module cache and a build cache it generates with Go's real shapes,
// and checks gomaint against its speed and memory targets.
//
//	go run ./cmd/gomaint-bench                # full run
//	go run ./cmd/gomaint-bench -quick         # smoke test of the harness
//	go run ./cmd/gomaint-bench -big 1000000   # also check that RSS stays flat
//	go run ./cmd/gomaint-bench -clean         # gomaint clean against go clean (clean.go)
//	go run ./cmd/gomaint-bench -daemon        # gomaint serve's idle CPU and RSS, and the events/s its counting keeps up with (daemon.go)
//	go run ./cmd/gomaint-bench -verify        # gomaint verify against sha256sum and go mod verify (verify.go)
//	go run ./cmd/gomaint-bench -run           # what gomaint run adds to a go build, and what its --prune saves (runbuild.go)
//
// Cold-cache runs drop the page cache, which needs root.
//
// Exit status: 0 all targets met, 1 a target missed or gomaint's counts
// wrong, 2 setup error.
//
// One job per file: main.go the flags; setup.go the work dir and the
// gomaint binary every mode starts with; gen.go the generated caches;
// config.go the configuration files; audit.go, audittools.go and
// measure.go the audit mode; clean.go and cleanrun.go -clean; daemon.go,
// serve.go, notify.go, proc.go, rescan.go, writes.go, counting.go and daemonreport.go -daemon;
// verify.go and modcache.go -verify; runbuild.go, runoverhead.go,
// runseries.go and churn.go -run;
// tree.go, stats.go, format.go and verdict.go what the modes share.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// Exit statuses.
const (
	exitOK     = 0
	exitMissed = 1
	exitSetup  = 2
)

type options struct {
	repo, dir   string
	keep, quick bool
	clean       bool
	daemon      bool
	verify      bool
	run         bool
	runs, cold  int
	scale       float64
	big         int
	workers     int
}

func main() {
	os.Exit(run())
}

func run() int {
	var o options
	flag.StringVar(&o.repo, "repo", ".", "the gomaint repository, or a `dir` inside it")
	flag.StringVar(&o.dir, "dir", "", "empty or new work `dir` (default: a fresh dir under /var/tmp)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work dir and its trees")
	flag.BoolVar(&o.quick, "quick", false, "smoke test: tiny trees, 1 warm run, no cold runs, targets not checked")
	flag.IntVar(&o.runs, "runs", 5, "timed warm runs per tool (with -clean: rounds on fresh trees, default 1)")
	flag.IntVar(&o.cold, "cold", 3, "timed cold-cache runs per tool (needs root; with -run: builds on an empty GOCACHE, no root)")
	flag.Float64Var(&o.scale, "scale", 1, "tree size: 1 is about 80,000 files in each cache")
	flag.IntVar(&o.big, "big", 0, "also audit a build cache of `N` entries and compare peak RSS (e.g. 1000000)")
	flag.BoolVar(&o.clean, "clean", false, "time gomaint clean against go clean -cache and -modcache instead of the audit")
	flag.BoolVar(&o.daemon, "daemon", false, "measure gomaint serve's idle CPU and peak RSS on two caches of 100,000 entries instead")
	flag.BoolVar(&o.verify, "verify", false, "time gomaint verify and check goroot --verify against sha256sum and go mod verify instead")
	flag.BoolVar(&o.run, "run", false, "time go build bare and under gomaint run, warm and cold, and the cache saved after ten builds with and without --prune instead")
	flag.IntVar(&o.workers, "gen-workers", max(4, 2*runtime.NumCPU()), "goroutines generating and removing trees")
	flag.Parse()
	scaleSet, runsSet := false, false
	flag.Visit(func(f *flag.Flag) { scaleSet, runsSet = scaleSet || f.Name == "scale", runsSet || f.Name == "runs" })
	if o.quick {
		o.runs, o.cold = 1, 0
		if !scaleSet {
			o.scale = 0.04 // about 3,000 files per cache
		}
	}
	if o.run && o.quick {
		o.cold = 1 // a cold build needs no root: the smoke test does one
	}
	if o.clean {
		if !runsSet {
			o.runs = 1 // each -clean round generates its trees afresh
		}
		if !o.quick && !scaleSet {
			o.scale = cleanScale
		}
	}
	if flag.NArg() > 0 || modes(&o) > 1 || o.runs < 1 || o.cold < 0 || o.scale <= 0 || o.big < 0 || o.workers < 1 {
		flag.Usage()
		return exitSetup
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mode := runAudit
	switch {
	case o.daemon:
		mode = runDaemon
	case o.clean:
		mode = runClean
	case o.verify:
		mode = runVerify
	case o.run:
		mode = runGomaintRun
	}
	code := mode(ctx, &o)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "gomaint-bench: interrupted")
		return exitSetup
	}
	return code
}

// modes counts the modes asked for: at most one runs.
func modes(o *options) int {
	n := 0
	for _, on := range []bool{o.clean, o.daemon, o.verify, o.run} {
		if on {
			n++
		}
	}
	return n
}
