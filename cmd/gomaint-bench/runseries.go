// What a CI job would save after ten builds of changing code: two series
// of builds of a generated module, each from an empty build cache, with
// one constant changed before each build, so that every build writes new
// entries for the packages that depend on it and leaves the old ones
// behind. One series builds bare, the other under gomaint run --prune.
// Then both caches' disk usage, and an eleventh build of the tenth's code
// on each, which must find as much in the pruned cache as in the other.

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"
)

// churnBuilds is the builds of changing code in a series (issue 17: ten).
const churnBuilds = 10

// churnGap is the least time between two builds of the pruned series, as
// a CI job's builds are minutes apart: gomaint run --prune keeps whatever
// changed in the 2 s before the run began (maint/workset's youngSlack).
const churnGap = 2500 * time.Millisecond

// cacheSeries is one series of builds on its own caches.
type cacheSeries struct {
	name       string
	prune      bool
	cache, mod string
	cfg        string    // gomaint's configuration naming the two
	build      tool      // bare, or under gomaint run --prune
	sizes      []int64   // the build cache's disk usage after each build
	pruned     []int64   // entries each build's prune removed
	last       runCache  // the eleventh build
	end        time.Time // of the last build
}

// series runs the plain and the pruned series of builds builds each on
// the module in dir, a build of one and a build of the other in turn.
func (r *runBench) series(ctx context.Context, dir string, builds int) (plain, pruned *cacheSeries, err error) {
	start := time.Now()
	both := []*cacheSeries{{name: "plain"}, {name: "pruned", prune: true}}
	for _, cs := range both {
		if err := r.newSeries(cs, dir); err != nil {
			return nil, nil, err
		}
	}
	for v := 1; v <= builds; v++ {
		if err := setChurnVersion(dir, v); err != nil {
			return nil, nil, err
		}
		for _, cs := range both {
			if cs.prune {
				select {
				case <-ctx.Done():
					return nil, nil, ctx.Err()
				case <-time.After(time.Until(cs.end.Add(churnGap))):
				}
			}
			if err := r.seriesBuild(ctx, cs, v); err != nil {
				return nil, nil, err
			}
		}
	}
	args := []string{"build", "./..."}
	for _, cs := range both {
		s, err := r.buildTool("gomaint run", dir, cs.cache, cs.mod, cs.cfg, args, "--json").run(ctx)
		if err != nil {
			return nil, nil, err
		}
		if _, cs.last, err = parseRun(s, false); err != nil {
			r.fails = append(r.fails, fmt.Sprintf("%s series, build %d: %v", cs.name, builds+1, err))
		}
	}
	fmt.Printf("two series of %d builds of changing code in %.1fs\n", builds, time.Since(start).Seconds())
	r.checkSeries(both[0], both[1])
	return both[0], both[1], nil
}

// newSeries makes the series' empty caches, and its build.
func (r *runBench) newSeries(cs *cacheSeries, dir string) error {
	cs.cache, cs.mod = filepath.Join(r.b.work, "churn-cache-"+cs.name), filepath.Join(r.b.work, "churn-mod-"+cs.name)
	for _, d := range []string{cs.cache, cs.mod} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	cs.cfg = filepath.Join(r.b.work, "churn-"+cs.name+".toml")
	if err := r.runConfig(cs.cfg, cs.cache, cs.mod); err != nil {
		return err
	}
	args := []string{"build", "./..."}
	cs.build = r.buildTool("go build", dir, cs.cache, cs.mod, cs.cfg, args)
	if cs.prune {
		cs.build = r.buildTool("gomaint run --prune", dir, cs.cache, cs.mod, cs.cfg, args, "--json", "--prune")
	}
	return nil
}

// seriesBuild runs build v of a series and measures its cache.
func (r *runBench) seriesBuild(ctx context.Context, cs *cacheSeries, v int) error {
	s, err := cs.build.run(ctx)
	if err != nil {
		return err
	}
	cs.end = time.Now()
	if cs.prune {
		_, b, err := parseRun(s, true)
		if err != nil {
			r.fails = append(r.fails, fmt.Sprintf("pruned series, build %d: %v", v, err))
		} else {
			cs.pruned = append(cs.pruned, b.Prune.Units)
		}
	}
	size, err := diskUsage(cs.cache)
	cs.sizes = append(cs.sizes, size)
	return err
}

// checkSeries notes a prune that removed nothing, left a cache no smaller
// than the plain one, or lost an entry the next build needed.
func (r *runBench) checkSeries(plain, pruned *cacheSeries) {
	if len(pruned.sizes) < 2 || len(pruned.pruned) != len(plain.sizes) {
		return // a failure already noted, or nothing to leave behind
	}
	var n int64
	for _, p := range pruned.pruned {
		n += p
	}
	last := len(plain.sizes) - 1
	switch {
	case n == 0:
		r.fails = append(r.fails, fmt.Sprintf("gomaint run --prune removed nothing in %d builds of changing code", len(pruned.sizes)))
	case pruned.sizes[last] >= plain.sizes[last]:
		r.fails = append(r.fails, fmt.Sprintf("the pruned cache (%s) is not smaller than the plain one (%s)", mib(pruned.sizes[last]), mib(plain.sizes[last])))
	}
	if p, q := plain.last, pruned.last; p.Hits != q.Hits || p.Misses != q.Misses {
		r.fails = append(r.fails, fmt.Sprintf("eleventh build: %d hits and %d misses on the pruned cache, %d and %d on the plain one: the prune removed entries the build needs",
			q.Hits, q.Misses, p.Hits, p.Misses))
	}
}

// printSeries prints each build's cache sizes, the final ratio and the
// eleventh build's hits.
func (r *runBench) printSeries(plain, pruned *cacheSeries, lite bool) {
	if len(pruned.pruned) == 0 || len(pruned.pruned) != len(plain.sizes) {
		return // a failure, noted
	}
	all, rebuilt := churnPackages(lite)
	fmt.Printf("%d builds of changing code (go build ./... of a generated module: before each, one constant changed, rebuilding %d of its %d packages),\n"+
		"each series from an empty build cache; disk usage of the cache after each build:\n", len(plain.sizes), rebuilt, all)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "build\tplain\tgomaint run --prune\tentries pruned\t")
	for i := range plain.sizes {
		fmt.Fprintf(w, "%d\t%s\t%s\t%d\t\n", i+1, mib(plain.sizes[i]), mib(pruned.sizes[i]), pruned.pruned[i])
	}
	w.Flush()
	last := len(plain.sizes) - 1
	fmt.Printf("saved cache after %d builds: plain %s, with --prune %s: %.2fx smaller (%s bytes against %s)\n", len(plain.sizes),
		mib(plain.sizes[last]), mib(pruned.sizes[last]), float64(plain.sizes[last])/float64(pruned.sizes[last]),
		commas(pruned.sizes[last]), commas(plain.sizes[last]))
	hits := func(c runCache) string {
		return fmt.Sprintf("%.1f%% hits (%d hits, %d misses)", 100*c.HitRatio, c.Hits, c.Misses)
	}
	fmt.Printf("build %d, the same code again: plain cache %s; pruned cache %s\n", last+2, hits(plain.last), hits(pruned.last))
}
