// The -run mode: what `gomaint run` adds to the time of a go build of a
// real module, this repository, with a warm and with a cold build cache
// (runoverhead.go), and the build cache a CI job would save after ten
// builds of changing code, with and without --prune (runseries.go).
//
// Every build runs on the bench's own caches (the module cache filled
// once, then GOPROXY=off: no network in any timing), so that --prune
// never touches the user's.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/trim"
)

// targetRunOverhead: gomaint run's wall time over the bare build's, less
// one (issue 17: "under 3% of the build's time").
const targetRunOverhead = 0.03

// The builds timed. Warm: the command itself, linked each time as in a CI
// job that restored its cache. Cold: a smaller package of the same module,
// as a cold build of cmd/gomaint compiles for half a minute on two cores
// and the cold rounds build nine times. -quick builds the small generated
// module of runseries.go both ways instead.
const (
	warmPkg = "./cmd/gomaint"
	coldPkg = "./maint/safetext"
)

// runBench is one -run run.
type runBench struct {
	b     *bench
	goCmd string
	src   string // a copy of the repository's packages (not with -quick)
	mod   string // the module cache of the timed builds
	fails []string
}

func runGomaintRun(ctx context.Context, o *options) int {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return setupErr(err)
	}
	b, err := newBench(ctx, o)
	if err != nil {
		return setupErr(err)
	}
	defer b.cleanup()
	// gomaint run takes its caches' locks in $XDG_RUNTIME_DIR/gomaint:
	// keep them in the work dir, apart from any real gomaint's.
	if err := os.Setenv("XDG_RUNTIME_DIR", b.work); err != nil {
		return setupErr(err)
	}
	r := &runBench{b: b, goCmd: goCmd, src: filepath.Join(b.work, "src"), mod: filepath.Join(b.work, "mod")}
	churn := filepath.Join(b.work, "churn")
	if err := writeChurn(churn, o.quick); err != nil {
		return setupErr(fmt.Errorf("writing the module to build: %w", err))
	}
	// gomaint run watches only a module cache that exists.
	if err := os.MkdirAll(r.mod, 0o755); err != nil {
		return setupErr(err)
	}
	dir, warmArgs, coldArgs := r.src, []string{"build", "-o", filepath.Join(b.work, "out", "gomaint"), warmPkg}, []string{"build", coldPkg}
	builds := churnBuilds
	if o.quick {
		dir, warmArgs, coldArgs, builds = churn, []string{"build", "./..."}, []string{"build", "./..."}, 2
	} else if err := copySource(b.repo, r.src); err != nil {
		return setupErr(fmt.Errorf("copying the sources to build: %w", err))
	}
	warmCache := filepath.Join(b.work, "cache")
	if err := r.fill(ctx, dir, warmCache, warmArgs); err != nil {
		return setupErr(err)
	}
	warm, err := r.overhead(ctx, "warm", dir, warmCache, warmArgs, o.runs)
	if err != nil {
		return setupErr(err)
	}
	cold, err := r.overhead(ctx, "cold", dir, filepath.Join(b.work, "cold-cache"), coldArgs, o.cold)
	if err != nil {
		return setupErr(err)
	}
	plain, pruned, err := r.series(ctx, churn, builds)
	if err != nil {
		return setupErr(err)
	}

	res := make([]runs, len(warm.tools))
	for i := range res {
		res[i] = runs{warm: warm.res[i].warm, cold: cold.res[i].cold}
	}
	fmt.Println()
	printTable(warm.tools, res)
	fmt.Println()
	var missed []string
	for _, oh := range []*overhead{warm, cold} {
		missed = append(missed, oh.print(o.quick)...)
	}
	fmt.Println()
	r.printSeries(plain, pruned, o.quick)
	return verdict(r.fails, missed, o.quick, "the harness works and every build ran as expected under gomaint run")
}

// copySource copies what a build of the module's packages needs, go.mod,
// go.sum and the non-test Go files of cmd/gomaint and maint, to dst: the
// builds run with -mod=mod, which may rewrite go.mod, and write their
// binaries, never in the repository.
func copySource(repo, dst string) error {
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := copyFile(filepath.Join(repo, f), filepath.Join(dst, f)); err != nil {
			return err
		}
	}
	for _, dir := range []string{"cmd/gomaint", "maint"} {
		err := filepath.WalkDir(filepath.Join(repo, dir), func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && d.Name() == "testdata":
				return filepath.SkipDir
			case !d.Type().IsRegular() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go"):
				return nil
			}
			rel, err := filepath.Rel(repo, p)
			if err != nil {
				return err
			}
			return copyFile(p, filepath.Join(dst, rel))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return writeFile(to, data)
}

// writeFile writes data to file, making its directory.
func writeFile(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o644)
}

// fill builds args once into cache, downloading the modules the build
// needs into the bench's module cache from the user's GOPROXY.
func (r *runBench) fill(ctx context.Context, dir, cache string, args []string) error {
	start := time.Now()
	argv := slices.Concat(r.inEnv(dir, cache, r.mod), []string{r.goCmd}, args)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("filling the caches: go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	fmt.Printf("module cache %s and build cache %s filled by go %s in %.1fs\n",
		r.mod, cache, strings.Join(args, " "), time.Since(start).Seconds())
	return nil
}

// inEnv starts a command line that runs in dir with build cache cache and
// module cache mod; a timed build adds GOPROXY=off.
func (r *runBench) inEnv(dir, cache, mod string) []string {
	return slices.Concat([]string{"env", "-C", dir, "GOCACHE=" + cache}, goEnv(mod))
}

// buildTool is go with args in dir on the caches, without network, bare
// or (with flags) under gomaint run; gomaint reads the same caches from
// cfg.
func (r *runBench) buildTool(name, dir, cache, mod, cfg string, args []string, flags ...string) tool {
	argv := append(r.inEnv(dir, cache, mod), "GOPROXY=off")
	if flags != nil {
		argv = slices.Concat(argv, []string{r.b.gomaint, "run", "--config", cfg}, flags, []string{"--"})
	}
	return tool{name: name, argv: slices.Concat(argv, []string{r.goCmd}, args)}
}

// runConfig writes the configuration naming the two caches a gomaint run
// watches: the bench's, not those of the user's configuration.
func (r *runBench) runConfig(file, cache, mod string) error {
	return writeConfig(file, "gomaint-bench -run: the caches of one set of builds", configFile{Targets: []target{
		{Name: "build", Kind: "build", Path: cache}, {Name: "mod", Kind: "mod", Path: mod}}})
}

// runOut is the part of gomaint run's JSON report checked here.
type runOut struct {
	ExitStatus int        `json:"exit_status"`
	DurationMS int64      `json:"duration_ms"`
	Caches     []runCache `json:"caches"`
}

type runCache struct {
	Target       string       `json:"target"`
	NotWatched   string       `json:"not_watched"`
	Hits         int64        `json:"hits"`
	Misses       int64        `json:"misses"`
	HitRatio     float64      `json:"hit_ratio"`
	Used         int64        `json:"used_entries"`
	Prune        *trim.Result `json:"prune"`
	PruneSkipped string       `json:"prune_skipped"`
}

// parseRun reads a gomaint run report, checking that the command
// succeeded, both caches were watched and, when pruned, pruned without
// error; build is the build cache's share.
func parseRun(s sample, pruned bool) (out runOut, build runCache, err error) {
	if err := json.Unmarshal(s.out, &out); err != nil {
		return out, build, fmt.Errorf("gomaint run's JSON: %v: %q", err, s.out)
	}
	if out.ExitStatus != 0 || len(out.Caches) != 2 {
		return out, build, fmt.Errorf("gomaint run: want exit status 0 and two caches, got %s", s.out)
	}
	for _, c := range out.Caches {
		switch {
		case c.NotWatched != "":
			return out, build, fmt.Errorf("gomaint run did not watch %s: %s", c.Target, c.NotWatched)
		case pruned && (c.Prune == nil || c.PruneSkipped != "" || c.Prune.Failed > 0):
			return out, build, fmt.Errorf("gomaint run --prune did not prune %s cleanly: %s", c.Target, s.out)
		case c.Target == "build":
			build = c
		}
	}
	return out, build, nil
}
