// The default mode: gomaint audit timed against du -sb and gdu -n on the
// generated trees, and checked against its speed and memory targets.

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Targets: gomaint's median wall time over du's, and its peak RSS.
const (
	targetWarm   = 0.70
	targetCold   = 1.00
	targetRSSMiB = 40.0
)

// runAudit checks the environment, builds gomaint, generates the trees
// and measures.
func runAudit(ctx context.Context, o *options) int {
	coldSkip, err := coldSkip(o)
	if err != nil {
		return setupErr(err)
	}
	if coldSkip != "" {
		o.cold = 0
	}
	gdu, err := ensureGdu(ctx)
	if err != nil {
		return setupErr(err)
	}
	b, err := newBench(ctx, o)
	if err != nil {
		return setupErr(err)
	}
	defer b.cleanup()
	b.coldSkip, b.gdu = coldSkip, gdu
	if err := b.generate(ctx); err != nil {
		return setupErr(err)
	}
	return b.bench(ctx)
}

// coldSkip says why there are no cold runs, or "" when there are; with
// CI=true, cold runs asked for but impossible are an error.
func coldSkip(o *options) (string, error) {
	switch {
	case o.quick:
		return "-quick", nil
	case o.cold == 0:
		return "-cold 0", nil
	}
	why := coldBlocker()
	if why != "" && os.Getenv("CI") == "true" {
		return "", fmt.Errorf("CI=true and cold runs impossible: %s", why)
	}
	return why, nil
}

// bench measures the three tools, and gomaint on the -big tree, then
// prints the figures and the verdict.
func (b *bench) bench(ctx context.Context) int {
	cfg := filepath.Join(b.work, "bench.toml")
	if err := writeConfig(cfg, "", configFile{Targets: []target{{Name: "build", Kind: "build", Path: b.bld}, {Name: "mod", Kind: "mod", Path: b.mod}}}); err != nil {
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
	r := medianWall(gm.warm) / medianWall(du.warm)
	fmt.Printf("warm: gomaint %s  du -sb %s  gdu -n %s  ratio gomaint/du %.2f %s  gomaint/gdu %.2f\n",
		secs(medianWall(gm.warm)), secs(medianWall(du.warm)), secs(medianWall(gd.warm)),
		r, check("warm gomaint/du", "%.2f", r, targetWarm), medianWall(gm.warm)/medianWall(gd.warm))
	if b.o.cold > 0 {
		r := medianWall(gm.cold) / medianWall(du.cold)
		fmt.Printf("cold: gomaint %s  du -sb %s  gdu -n %s  ratio gomaint/du %.2f %s  gomaint/gdu %.2f\n",
			secs(medianWall(gm.cold)), secs(medianWall(du.cold)), secs(medianWall(gd.cold)),
			r, check("cold gomaint/du", "%.2f", r, targetCold), medianWall(gm.cold)/medianWall(gd.cold))
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

	return verdict(fails, missed, b.o.quick, "the harness works and gomaint's counts match")
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
	if err := writeConfig(cfg, "", configFile{Targets: []target{{Name: "big", Kind: "build", Path: dir}}}); err != nil {
		return runs{}, err
	}
	res, err := measure(ctx, []tool{gomaintTool(b.gomaint, cfg)}, min(b.o.runs, 3), 0)
	if err != nil {
		return runs{}, err
	}
	fmt.Printf("gomaint on %d entries: median %s, peak RSS %.1f MiB\n", b.o.big, secs(medianWall(res[0].warm)), maxRSS(res[0].warm))
	return res[0], nil
}
