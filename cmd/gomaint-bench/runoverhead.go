// What gomaint run adds to a build's time: the same go build bare, under
// gomaint run and under gomaint run --prune, in interleaved rounds whose
// order rotates, so that drift on a shared machine and whatever one build
// leaves to the next hit every variant alike.

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// overhead is one cache state's timings: tools[0] bare, [1] under gomaint
// run, [2] under gomaint run --prune.
type overhead struct {
	what  string // "warm" or "cold"
	args  []string
	tools []tool
	res   []runs
	own   [][]float64 // per tool: its wall time less the command's, in seconds
	used  int64       // build cache entries a run used
}

// samples are the timed runs of tool i.
func (oh *overhead) samples(i int) []sample {
	if oh.what == "cold" {
		return oh.res[i].cold
	}
	return oh.res[i].warm
}

// overhead times the build args in dir on cache: warm, the cache as the fill
// left it and an untimed round first; cold, the cache emptied before each
// build.
func (r *runBench) overhead(ctx context.Context, what, dir, cache string, args []string, rounds int) (*overhead, error) {
	cfg := filepath.Join(r.b.work, what+".toml")
	if err := r.runConfig(cfg, cache, r.mod); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	oh := &overhead{what: what, args: args, res: make([]runs, 3), own: make([][]float64, 3), tools: []tool{
		r.buildTool("go build", dir, cache, r.mod, cfg, args),
		r.buildTool("gomaint run", dir, cache, r.mod, cfg, args, "--json"),
		r.buildTool("gomaint run --prune", dir, cache, r.mod, cfg, args, "--json", "--prune"),
	}}
	prepare := func() error {
		if what == "cold" {
			return removeTree(cache, r.b.o.workers, false)
		}
		// A CI job's checkout has no binary yet: each build links.
		if i := slices.Index(args, "-o"); i >= 0 {
			if err := os.Remove(args[i+1]); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	timed := func(i int) (sample, error) {
		if err := prepare(); err != nil {
			return sample{}, err
		}
		unix.Sync() // so that one build's writeback is not the next one's
		return oh.tools[i].run(ctx)
	}
	if what == "warm" {
		for i := range oh.tools {
			if _, err := timed(i); err != nil {
				return nil, err
			}
		}
	}
	start := time.Now()
	for round := range rounds {
		for k := range oh.tools {
			i := (round + k) % len(oh.tools)
			s, err := timed(i)
			if err != nil {
				return nil, err
			}
			if what == "cold" {
				oh.res[i].cold = append(oh.res[i].cold, s)
			} else {
				oh.res[i].warm = append(oh.res[i].warm, s)
			}
			if i > 0 {
				r.checkRun(oh, i, s)
			}
		}
	}
	if rounds > 0 {
		fmt.Printf("%s: %d rounds of go %s in %.1fs\n", what, rounds, strings.Join(args, " "), time.Since(start).Seconds())
	}
	return oh, nil
}

// checkRun notes a run under gomaint that did not go as the cache state
// says it must: a warm build finds every entry, a cold one none.
func (r *runBench) checkRun(oh *overhead, i int, s sample) {
	out, build, err := parseRun(s, i == 2)
	name := fmt.Sprintf("%s %s", oh.what, oh.tools[i].name)
	switch {
	case err != nil:
		r.fails = append(r.fails, fmt.Sprintf("%s: %v", name, err))
		return
	case oh.what == "warm" && build.Misses > 0:
		r.fails = append(r.fails, fmt.Sprintf("%s: %d misses in a warm cache", name, build.Misses))
	case oh.what == "cold" && (build.Hits > 0 || build.Misses == 0):
		r.fails = append(r.fails, fmt.Sprintf("%s: %d hits and %d misses in an empty cache", name, build.Hits, build.Misses))
	}
	oh.used = build.Used
	oh.own[i] = append(oh.own[i], s.wall.Seconds()-float64(out.DurationMS)/1000)
}

// print says what gomaint run added to the bare build's wall and CPU
// time, and returns the targets missed. The overhead is the median over
// the rounds of a run's wall time over the bare build's of the same round,
// less one: a round's builds run minutes apart at most, so drift on a
// shared machine cancels out. Its confidence interval says how far the
// rounds' spread leaves it from the target.
func (oh *overhead) print(quick bool) (missed []string) {
	bare := oh.samples(0)
	if len(bare) == 0 {
		fmt.Printf("%s: no rounds\n", oh.what)
		return nil
	}
	cpu := func(s sample) time.Duration { return s.cpu }
	wall, cpus := medianWall(bare), medianBy(bare, cpu)
	fmt.Printf("%s build cache: go %s, %d rounds, %s entries used: bare %s wall, %s CPU (medians)\n",
		oh.what, strings.Join(oh.args, " "), len(bare), commas(oh.used), secs(wall), secs(cpus))
	for i := 1; i < len(oh.tools); i++ {
		ss := oh.samples(i)
		ratios := make([]float64, len(ss))
		for k, s := range ss {
			ratios[k] = s.wall.Seconds() / bare[k].wall.Seconds()
		}
		over, own := median(ratios)-1, median(oh.own[i])
		ci := ""
		if lo, hi, ok := medianCI(ratios); ok {
			ci = fmt.Sprintf(", 95%% CI %+.1f%% to %+.1f%%", 100*(lo-1), 100*(hi-1))
		}
		t := fmt.Sprintf("target < %.0f%%", 100*targetRunOverhead)
		switch {
		case quick:
			t += ", not checked with -quick"
		case over >= targetRunOverhead:
			missed = append(missed, fmt.Sprintf("%s: %s took %.1f%% longer than the bare build, >= %.0f%%",
				oh.what, oh.tools[i].name, 100*over, 100*targetRunOverhead))
		}
		fmt.Printf("  %s: wall %s, %+.1f%%%s (%s); CPU %s, %+.1f%%; gomaint's own wall time around the command %s (%.1f%%)\n",
			oh.tools[i].name, secs(medianWall(ss)), 100*over, ci, t, secs(medianBy(ss, cpu)), 100*(medianBy(ss, cpu)/cpus-1), secs(own), 100*own/wall)
	}
	return missed
}
