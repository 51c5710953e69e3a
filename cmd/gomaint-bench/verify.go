// The -verify mode: gomaint verify --full on a real module cache that go
// mod download fills (modcache.go), timed against sha256sum of the same
// files and go mod verify of a main module requiring the same versions;
// an incremental gomaint verify after one more version is downloaded,
// as a fraction of the full run; and check goroot --verify against
// sha256sum of the same GOROOT files. The MB/s of every tool are over
// the same bytes, the files it reads, so a ratio of MB/s is one of time.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/verify"
)

// targetIncremental: an incremental run after one new version, over a
// full run of the same cache (issue 19: "a small fraction").
const targetIncremental = 0.20

// sha256Mods hashes, as find and xargs do, the files gomaint verify reads
// in module cache $1: every file of the extracted versions, and the zips.
const sha256Mods = `find "$1" -path "$1/cache" -prune -o -type f -print0 | xargs -0 sha256sum &&
find "$1/cache/download" -type f -name '*.zip' -print0 | xargs -0 sha256sum`

// sha256Tree hashes every regular file under $1.
const sha256Tree = `find "$1" -type f -print0 | xargs -0 sha256sum`

// verifyRun is one -verify run.
type verifyRun struct {
	b           *bench
	goCmd       string
	mods        []string
	main, cache string
	state       string
	fails       []string
}

func runVerify(ctx context.Context, o *options) int {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return setupErr(err)
	}
	why, err := coldSkip(o)
	if err != nil {
		return setupErr(err)
	}
	if why != "" {
		o.cold = 0
	}
	b, err := newBench(ctx, o)
	if err != nil {
		return setupErr(err)
	}
	defer b.cleanup()
	b.coldSkip = why
	r := &verifyRun{b: b, goCmd: goCmd, mods: verifyMods, main: filepath.Join(b.work, "main"),
		cache: filepath.Join(b.work, "modcache"), state: filepath.Join(b.work, "state")}
	if o.quick {
		r.mods = verifyQuickMods
	}
	// verify.json and GOROOT baselines go to the work dir, not to this
	// machine's state directory.
	if err := os.Setenv("STATE_DIRECTORY", r.state); err != nil {
		return setupErr(err)
	}
	proxy, err := modSource(ctx, goCmd, b.work, r.mods)
	if err != nil {
		return setupErr(err)
	}
	if err := goModDownload(ctx, goCmd, r.main, r.cache, proxy, r.mods); err != nil {
		return setupErr(err)
	}
	full, err := r.full(ctx)
	if err != nil {
		return setupErr(err)
	}
	inc, err := r.incremental(ctx, proxy)
	if err != nil {
		return setupErr(err)
	}
	gr, err := r.goroot(ctx)
	if err != nil {
		return setupErr(err)
	}

	fmt.Println()
	printTable(append(full.tools, inc.tools[0], gr.tools[0], gr.tools[1]), append(full.res, inc.res[0], gr.res[0], gr.res[1]))
	fmt.Println()
	full.print("module cache")
	gr.print("GOROOT")
	if o.cold == 0 {
		fmt.Printf("cold: skipped: %s\n", b.coldSkip)
	}
	var missed []string
	// The target is on CPU time: gomaint verify runs at nice 10, so on a
	// busy machine a short run's wall time is mostly waiting for others.
	cpu := func(s sample) time.Duration { return s.cpu }
	incWall, incCPU := medianWall(inc.res[0].warm), medianBy(inc.res[0].warm, cpu)
	frac := incCPU / medianBy(full.res[0].warm, cpu)
	t := fmt.Sprintf("(target <= %.0f%%", 100*targetIncremental)
	switch {
	case o.quick:
		t += ", not checked with -quick"
	case frac > targetIncremental:
		missed = append(missed, fmt.Sprintf("incremental run: %.0f%% of a full run's CPU > %.0f%%", 100*frac, 100*targetIncremental))
	}
	fmt.Printf("incremental gomaint verify after %s was added: CPU %s, %.1f%% of a full run's %s); wall %s, %.1f%%\n",
		verifyExtra, secs(incCPU), 100*frac, t, secs(incWall), 100*incWall/medianWall(full.res[0].warm))
	fmt.Println("  (gomaint verify runs at nice 10 and idle I/O priority, as it always does)")
	return verdict(r.fails, missed, o.quick, "the harness works and every tool verified the same files")
}

// timed is a set of tools timed on the same files.
type timed struct {
	tools        []tool
	res          []runs
	files, bytes int64
	cold         bool
}

// full times gomaint verify --full, sha256sum and go mod verify on the
// module cache.
func (r *verifyRun) full(ctx context.Context) (timed, error) {
	t := timed{cold: r.b.o.cold > 0}
	var err error
	t.files, t.bytes, err = regularFiles(r.cache, func(rel string) bool {
		return !strings.HasPrefix(rel, "cache/") || strings.HasSuffix(rel, ".zip")
	})
	if err != nil {
		return t, fmt.Errorf("counting %s: %w", r.cache, err)
	}
	cfg := filepath.Join(r.b.work, "verify.toml")
	if err := writeConfig(cfg, "", configFile{Targets: []target{{Name: "mod", Kind: "mod", Path: r.cache}}}); err != nil {
		return t, err
	}
	fmt.Printf("module cache %s: %d versions, %s files, %s read by each tool (the versions' files and their zips)\n",
		r.cache, len(r.mods), commas(t.files), mib(t.bytes))
	t.tools = []tool{
		r.verifyTool("gomaint verify --full", cfg, "--full"),
		{name: "sha256sum", argv: []string{"sh", "-c", sha256Mods, "sh", r.cache}},
		{name: "go mod verify", argv: append(append([]string{"env", "-C", r.main, "GOPROXY=off"}, goEnv(r.cache)...), r.goCmd, "mod", "verify")},
	}
	if t.res, err = measure(ctx, t.tools, r.b.o.runs, r.b.o.cold); err != nil {
		return t, err
	}
	// More than the files read: dirhash hashes a zip's files inflated.
	fmt.Printf("gomaint verify --full hashed %s of content in each run\n", mib(r.checkVerify(t.res[0], "full", len(r.mods), len(r.mods))))
	r.checkSums(t.res[1], "module cache", t.files)
	return t, nil
}

// incremental downloads verifyExtra into the cache, then times gomaint
// verify, each run starting from the state the full runs left.
func (r *verifyRun) incremental(ctx context.Context, proxy string) (timed, error) {
	t := timed{tools: []tool{r.verifyTool("gomaint verify (incremental)", filepath.Join(r.b.work, "verify.toml"))}, res: make([]runs, 1)}
	saved := r.state + ".full"
	if err := os.CopyFS(saved, os.DirFS(r.state)); err != nil {
		return t, fmt.Errorf("saving the state of the full runs: %w", err)
	}
	// Outside the main module, so that its go.mod stays as go mod verify used it.
	if err := goRun(ctx, r.goCmd, r.b.work, r.cache, proxy, "mod", "download", verifyExtra); err != nil {
		return t, err
	}
	for range r.b.o.runs {
		if err := os.RemoveAll(r.state); err != nil {
			return t, err
		}
		if err := os.CopyFS(r.state, os.DirFS(saved)); err != nil {
			return t, fmt.Errorf("restoring the state of the full runs: %w", err)
		}
		s, err := t.tools[0].run(ctx)
		if err != nil {
			return t, err
		}
		t.res[0].warm = append(t.res[0].warm, s)
	}
	r.checkVerify(t.res[0], "incremental", len(r.mods)+1, 1)
	return t, nil
}

// goroot records a baseline of go's own GOROOT, then times check goroot
// --verify against it and sha256sum of the same files.
func (r *verifyRun) goroot(ctx context.Context) (timed, error) {
	t := timed{cold: r.b.o.cold > 0}
	out, err := exec.CommandContext(ctx, r.goCmd, "env", "GOROOT").Output()
	if err != nil {
		return t, fmt.Errorf("go env GOROOT: %w", err)
	}
	dir := strings.TrimSpace(string(out))
	if t.files, t.bytes, err = regularFiles(dir, nil); err != nil {
		return t, fmt.Errorf("counting %s: %w", dir, err)
	}
	fmt.Printf("GOROOT %s: %s files, %s\n", dir, commas(t.files), mib(t.bytes))
	check := func(flag string) tool {
		// Exit 1 is GOROOT_MODIFIED, which checkGoroot reports.
		return tool{name: "gomaint check goroot " + flag, okCodes: []int{1},
			argv: []string{r.b.gomaint, "check", "goroot", flag, "--goroot", dir, "--json", "--log", "none"}}
	}
	if _, err := check("--record").run(ctx); err != nil {
		return t, err
	}
	t.tools = []tool{check("--verify"), {name: "sha256sum (GOROOT)", argv: []string{"sh", "-c", sha256Tree, "sh", dir}}}
	if t.res, err = measure(ctx, t.tools, r.b.o.runs, r.b.o.cold); err != nil {
		return t, err
	}
	r.checkGoroot(t.res[0])
	r.checkSums(t.res[1], "GOROOT", t.files)
	return t, nil
}

func (r *verifyRun) verifyTool(name, cfg string, flags ...string) tool {
	// Exit 1 is a finding, which checkVerify reports.
	return tool{name: name, okCodes: []int{1},
		argv: append([]string{r.b.gomaint, "verify", "--config", cfg, "--json", "--log", "none"}, flags...)}
}

// checkVerify notes every run of gomaint verify that did not see the
// versions, hash the ones it should, and find nothing, and returns the
// bytes the last run hashed.
func (r *verifyRun) checkVerify(rs runs, what string, versions, hashed int) (hashedBytes int64) {
	for _, s := range append(rs.warm, rs.cold...) {
		var rep verify.Report
		if err := json.Unmarshal(s.out, &rep); err != nil {
			r.fails = append(r.fails, fmt.Sprintf("%s gomaint verify: its JSON: %v", what, err))
			return 0
		}
		if len(rep.Caches) != 1 || rep.Caches[0].Error != "" || len(rep.Findings) > 0 {
			r.fails = append(r.fails, fmt.Sprintf("%s gomaint verify: want one cache verified with no findings, got %s", what, s.out))
			return 0
		}
		// go also kept the .mod of modules of the requirement graph; filled
		// with GOSUMDB=off, the cache has no checksum to check them by.
		c := rep.Caches[0]
		if c.Versions-c.ModOnly != int64(versions) || c.Unchecked != c.ModOnly || c.Hashed != int64(hashed) || c.Unchanged != int64(versions-hashed) {
			r.fails = append(r.fails, fmt.Sprintf("%s gomaint verify: %d versions with code, %d hashed, %d unchanged; want %d, %d, %d",
				what, c.Versions-c.ModOnly, c.Hashed, c.Unchanged, versions, hashed, versions-hashed))
			return 0
		}
		hashedBytes = c.HashedBytes
	}
	return hashedBytes
}

// checkGoroot notes a run of check goroot --verify that found a change.
func (r *verifyRun) checkGoroot(rs runs) {
	for _, s := range append(rs.warm, rs.cold...) {
		var out struct {
			Verify *goroot.Verification `json:"verify"`
		}
		if err := json.Unmarshal(s.out, &out); err != nil || out.Verify == nil || !out.Verify.Code.IsZero() {
			r.fails = append(r.fails, fmt.Sprintf("gomaint check goroot --verify: want no change, got %s", s.out))
			return
		}
	}
}

// checkSums notes a sha256sum run that did not hash every file counted.
func (r *verifyRun) checkSums(rs runs, what string, files int64) {
	for _, s := range append(rs.warm, rs.cold...) {
		if n := int64(strings.Count(string(s.out), "\n")); n != files {
			r.fails = append(r.fails, fmt.Sprintf("%s: sha256sum hashed %d files, we counted %d", what, n, files))
			return
		}
	}
}

// print says each tool's MB/s over the same bytes, and the ratios of the
// first tool's to the others'.
func (t timed) print(what string) {
	modes := []string{"warm"}
	if t.cold {
		modes = append(modes, "cold")
	}
	for _, mode := range modes {
		walls := make([]float64, len(t.tools))
		fmt.Printf("%s, %s:", what, mode)
		for i, tl := range t.tools {
			ss := t.res[i].warm
			if mode == "cold" {
				ss = t.res[i].cold
			}
			walls[i] = medianWall(ss)
			fmt.Printf("  %s %s (%.0f MB/s)", tl.name, secs(walls[i]), float64(t.bytes)/1e6/walls[i])
		}
		fmt.Println()
		for i := 1; i < len(t.tools); i++ {
			fmt.Printf("  ratio %s/%s %.2f (MB/s; above 1 is faster)\n", t.tools[0].name, t.tools[i].name, walls[i]/walls[0])
		}
	}
}
