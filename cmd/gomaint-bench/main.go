// Command gomaint-bench times `gomaint audit` against `du -sb` and `gdu -n`
// on a module cache and a build cache it generates with Go's real shapes,
// and checks gomaint against its speed and memory targets.
//
//	go run ./cmd/gomaint-bench                # full run
//	go run ./cmd/gomaint-bench -quick         # smoke test of the harness
//	go run ./cmd/gomaint-bench -big 1000000   # also check that RSS stays flat
//	go run ./cmd/gomaint-bench -clean         # gomaint clean against go clean (clean.go)
//	go run ./cmd/gomaint-bench -daemon        # gomaint serve's idle CPU and RSS (daemon.go)
//
// Cold-cache runs drop the page cache, which needs root.
//
// Exit status: 0 all targets met, 1 a target missed or gomaint's counts
// wrong, 2 setup error.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// Targets: gomaint's median wall time over du's, and its peak RSS.
const (
	targetWarm   = 0.70
	targetCold   = 1.00
	targetRSSMiB = 40.0
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
	flag.IntVar(&o.cold, "cold", 3, "timed cold-cache runs per tool (needs root)")
	flag.Float64Var(&o.scale, "scale", 1, "tree size: 1 is about 80,000 files in each cache")
	flag.IntVar(&o.big, "big", 0, "also audit a build cache of `N` entries and compare peak RSS (e.g. 1000000)")
	flag.BoolVar(&o.clean, "clean", false, "time gomaint clean against go clean -cache and -modcache instead of the audit")
	flag.BoolVar(&o.daemon, "daemon", false, "measure gomaint serve's idle CPU and peak RSS on two caches of 100,000 entries instead")
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
	if o.clean {
		if !runsSet {
			o.runs = 1 // each -clean round generates its trees afresh
		}
		if !o.quick && !scaleSet {
			o.scale = cleanScale
		}
	}
	if flag.NArg() > 0 || (o.clean && o.daemon) || o.runs < 1 || o.cold < 0 || o.scale <= 0 || o.big < 0 || o.workers < 1 {
		flag.Usage()
		return exitSetup
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.daemon {
		code := runDaemon(ctx, &o)
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "gomaint-bench: interrupted")
			return exitSetup
		}
		return code
	}
	if o.clean {
		code := runClean(ctx, &o)
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "gomaint-bench: interrupted")
			return exitSetup
		}
		return code
	}
	b, code := setup(ctx, &o)
	if b == nil {
		return code
	}
	defer b.cleanup()
	code = b.bench(ctx)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "gomaint-bench: interrupted")
		return exitSetup
	}
	return code
}

// setup checks the environment, builds gomaint and generates the trees. It
// returns nil and an exit status when it cannot.
func setup(ctx context.Context, o *options) (*bench, int) {
	fail := func(err error) (*bench, int) {
		fmt.Fprintln(os.Stderr, "gomaint-bench:", err)
		return nil, exitSetup
	}
	repo, err := findRepo(o.repo)
	if err != nil {
		return fail(err)
	}
	b := &bench{o: o, now: time.Now()}
	switch {
	case o.quick:
		b.coldSkip = "-quick"
	case o.cold == 0:
		b.coldSkip = "-cold 0"
	default:
		if why := coldBlocker(); why != "" {
			b.coldSkip = why
			if os.Getenv("CI") == "true" {
				return fail(fmt.Errorf("CI=true and cold runs impossible: %s", why))
			}
		}
	}
	if b.coldSkip != "" {
		o.cold = 0
	}
	if b.gdu, err = ensureGdu(ctx); err != nil {
		return fail(err)
	}
	if b.work, b.ownWork, err = makeWorkDir(o.dir); err != nil {
		return fail(err)
	}
	ok := false
	defer func() {
		if !ok {
			b.cleanup()
		}
	}()
	fmt.Printf("repo %s, work dir %s\n", repo, b.work)

	start := time.Now()
	if b.gomaint, err = buildGomaint(ctx, repo, filepath.Join(b.work, "bin")); err != nil {
		return fail(err)
	}
	fmt.Printf("built gomaint in %.1fs\n", time.Since(start).Seconds())

	if err := b.generate(ctx); err != nil {
		return fail(err)
	}
	ok = true
	return b, exitOK
}

// bench is one benchmark run: its work dir, tools and generated trees.
type bench struct {
	o                *options
	now              time.Time
	work             string
	ownWork          bool // work dir made by us, so removed whole
	gomaint, gdu     string
	coldSkip         string // why cold runs are skipped, if they are
	trees, mod, bld  string // trees holds mod and bld
	modT, bldT, bigT *tally
}

// bench measures the three tools, and gomaint on the -big tree, then
// prints the figures and the verdict.
func (b *bench) bench(ctx context.Context) int {
	cfg := filepath.Join(b.work, "bench.toml")
	if err := writeConfig(cfg, target{"build", "build", b.bld}, target{"mod", "mod", b.mod}); err != nil {
		return setupErr(err)
	}
	tools := []tool{
		gomaintTool(b.gomaint, cfg),
		{name: "du -sb", argv: []string{"du", "-sb", b.mod, b.bld}},
		{name: "gdu -n", argv: []string{b.gdu, "-n", "-p", "-c", b.trees}},
	}
	res, err := measure(ctx, tools, b.o.runs, b.o.cold)
	if err != nil {
		return setupErr(err)
	}
	var fails, missed []string
	if err := checkRuns(res[0], map[string]*tally{"build": b.bldT, "mod": b.modT}); err != nil {
		fails = append(fails, err.Error())
	}
	var big runs
	if b.o.big > 0 {
		if big, err = b.measureBig(ctx); err != nil {
			return setupErr(err)
		}
		if err := checkRuns(big, map[string]*tally{"big": b.bigT}); err != nil {
			fails = append(fails, "big tree: "+err.Error())
		}
	}

	fmt.Println()
	printTable(tools, res)
	gm, du, gd := res[0], res[1], res[2]
	fmt.Printf("gomaint's own scan_ms (both caches), median: warm %d ms", scanMedian(gm.warm))
	if b.o.cold > 0 {
		fmt.Printf(", cold %d ms", scanMedian(gm.cold))
	}
	fmt.Printf("\ngomaint's findings on the trees: %s\n", findings(gm.warm[0]))
	if len(fails) == 0 {
		fmt.Printf("gomaint's counts match in every run: %d + %d = %d files, as generated\n",
			b.modT.files.Load(), b.bldT.files.Load(), b.modT.files.Load()+b.bldT.files.Load())
	}
	fmt.Println()

	// check notes a missed target and says what it is; format prints a
	// value or a target.
	check := func(what, format string, value, target float64) string {
		t := fmt.Sprintf(format, target)
		if b.o.quick {
			return "(target <= " + t + ", not checked with -quick)"
		}
		if value > target {
			missed = append(missed, fmt.Sprintf("%s: "+format+" > %s", what, value, t))
		}
		return "(target <= " + t + ")"
	}
	r := median(gm.warm) / median(du.warm)
	fmt.Printf("warm: gomaint %s  du -sb %s  gdu -n %s  ratio gomaint/du %.2f %s  gomaint/gdu %.2f\n",
		secs(median(gm.warm)), secs(median(du.warm)), secs(median(gd.warm)),
		r, check("warm gomaint/du", "%.2f", r, targetWarm), median(gm.warm)/median(gd.warm))
	if b.o.cold > 0 {
		r := median(gm.cold) / median(du.cold)
		fmt.Printf("cold: gomaint %s  du -sb %s  gdu -n %s  ratio gomaint/du %.2f %s  gomaint/gdu %.2f\n",
			secs(median(gm.cold)), secs(median(du.cold)), secs(median(gd.cold)),
			r, check("cold gomaint/du", "%.2f", r, targetCold), median(gm.cold)/median(gd.cold))
	} else {
		fmt.Printf("cold: skipped: %s\n", b.coldSkip)
	}
	all := append(gm.warm, gm.cold...)
	rss := maxRSS(all)
	fmt.Printf("peak RSS: gomaint %.1f MiB %s", rss, check("peak RSS", "%.0f MiB", rss, targetRSSMiB))
	if b.o.big > 0 {
		bigRSS := maxRSS(big.warm)
		fmt.Printf("; at %d entries %.1f MiB (x%.2f) %s", b.o.big, bigRSS, bigRSS/rss,
			check(fmt.Sprintf("peak RSS at %d entries", b.o.big), "%.0f MiB", bigRSS, targetRSSMiB))
		all = append(all, big.warm...)
	}
	fmt.Printf("\n  (a child's peak RSS includes ours when it starts, as Go starts it with vfork: at most %.1f MiB here)\n",
		floor(all))

	for _, f := range fails {
		fmt.Println("FAIL:", f)
	}
	for _, m := range missed {
		fmt.Println("MISSED:", m)
	}
	switch {
	case len(fails)+len(missed) > 0:
		return exitMissed
	case b.o.quick:
		fmt.Println("OK: the harness works and gomaint's counts match (targets not checked with -quick)")
	default:
		fmt.Println("PASS: all measured targets met")
	}
	return exitOK
}

// measureBig generates the -big tree and times gomaint on it.
func (b *bench) measureBig(ctx context.Context) (runs, error) {
	dir := filepath.Join(b.work, "big", "gocache")
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return runs{}, err
	}
	start := time.Now()
	var err error
	if b.bigT, err = buildCache(ctx, dir, b.o.big, true, b.o.workers, b.now); err != nil {
		return runs{}, err
	}
	fmt.Printf("generated a build cache of %d empty entries in %.1fs\n", b.o.big, time.Since(start).Seconds())
	cfg := filepath.Join(b.work, "big.toml")
	if err := writeConfig(cfg, target{"big", "build", dir}); err != nil {
		return runs{}, err
	}
	res, err := measure(ctx, []tool{gomaintTool(b.gomaint, cfg)}, min(b.o.runs, 3), 0)
	if err != nil {
		return runs{}, err
	}
	fmt.Printf("gomaint on %d entries: median %s, peak RSS %.1f MiB\n", b.o.big, secs(median(res[0].warm)), maxRSS(res[0].warm))
	return res[0], nil
}

// cleanup removes every tree we generated, unless -keep.
func (b *bench) cleanup() {
	if b.work == "" {
		return
	}
	if b.o.keep {
		fmt.Println("kept", b.work)
		return
	}
	start := time.Now()
	if err := removeTree(b.work, b.o.workers, b.ownWork); err != nil {
		fmt.Fprintln(os.Stderr, "gomaint-bench: cleanup:", err)
		return
	}
	fmt.Printf("removed %s in %.1fs\n", b.work, time.Since(start).Seconds())
	b.work = ""
}

func setupErr(err error) int {
	fmt.Fprintln(os.Stderr, "gomaint-bench:", err)
	return exitSetup
}

func secs(s float64) string { return fmt.Sprintf("%.3fs", s) }
