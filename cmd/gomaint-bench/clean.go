package main

// The -clean mode: gomaint clean trims one copy of each cache to half its
// disk usage, go clean -cache and -modcache empty an identical second copy,
// and the removal rates (files per second) are compared. A run destroys
// its copy, so each tool runs once per round; -runs N makes N rounds on
// fresh trees and compares medians. The page cache stays warm for both
// tools; only a sync before each run keeps earlier writeback out of it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"
)

// cleanScale gives about 105,000 build cache entries and 100,000 module
// cache files, above the 100,000 and 70,000 the benchmark asks for.
const cleanScale = 1.25

// Target: gomaint's removal rate over go clean's.
const targetRate = 1.00

// cleanCache is one cache kind: copy A is trimmed by gomaint, copy B
// emptied by go clean.
type cleanCache struct {
	name, label string // target name, and what the report calls it
	round       int    // of several rounds, else 0
	a, b        string
	tA          *tally
	goArgs      []string // the env var naming b, and go clean's flag

	limit       int64 // half of diskBefore
	diskBefore  int64 // gomaint audit's disk_bytes of copy A
	diskAfter   int64
	gm          sample
	sum         summary
	gmFiles     int64 // regular files gone from A, by our own count
	goFiles     int64 // regular files before go clean; goLeft after
	goLeft      int64
	goS         sample
	filesBefore int64
}

// summary is gomaint clean's JSON line for one target.
type summary struct {
	Target      string `json:"target"`
	FreedBytes  int64  `json:"freed_bytes"`
	Files       int64  `json:"files"`
	Units       int64  `json:"units"`
	Versions    int64  `json:"versions"`
	BytesBefore int64  `json:"disk_bytes_before"`
	BytesAfter  int64  `json:"disk_bytes_after"`
	WithinLimit bool   `json:"within_limit"`
	Blocked     string `json:"blocked"`
	Failed      int64  `json:"failed"`
	FirstError  string `json:"first_error"`
	DurationMS  int64  `json:"duration_ms"`
	Error       string `json:"error"`
}

func runClean(ctx context.Context, o *options) int {
	repo, err := findRepo(o.repo)
	if err != nil {
		return setupErr(err)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return setupErr(err)
	}
	b := &bench{o: o, now: time.Now()}
	if b.work, b.ownWork, err = makeWorkDir(o.dir); err != nil {
		return setupErr(err)
	}
	defer b.cleanup()
	// gomaint keeps its target locks in $XDG_RUNTIME_DIR/gomaint: keep them
	// in the work dir, apart from any real gomaint's "build" and "mod".
	if err := os.Setenv("XDG_RUNTIME_DIR", b.work); err != nil {
		return setupErr(err)
	}
	fmt.Printf("repo %s, work dir %s\n", repo, b.work)
	start := time.Now()
	if b.gomaint, err = buildGomaint(ctx, repo, filepath.Join(b.work, "bin")); err != nil {
		return setupErr(err)
	}
	fmt.Printf("built gomaint in %.1fs\n", time.Since(start).Seconds())
	if mnt := discardMount(b.work); mnt != "" {
		fmt.Printf("note: %s is mounted with discard: removing a file with data discards its blocks on the device,\n"+
			"  so removal times follow the device (on a VM they can vary several-fold from minute to minute)\n", mnt)
	}

	var rounds [][]*cleanCache // [round][build, mod]
	var fails, missed []string
	for r := range o.runs {
		caches, err := b.cleanRound(ctx, r, goCmd)
		if err != nil {
			return setupErr(err)
		}
		for _, c := range caches {
			fails = append(fails, c.check()...)
		}
		rounds = append(rounds, caches)
	}
	var big *cleanCache
	if o.big > 0 {
		if big, err = b.cleanBig(ctx, goCmd); err != nil {
			return setupErr(err)
		}
		fails = append(fails, big.check()...)
	}

	fmt.Println()
	printCleanTable(rounds, big)
	fmt.Println()
	check := func(what string, ok bool, format string, target float64) string {
		t := fmt.Sprintf("(target "+format+")", target)
		switch {
		case o.quick:
			return t[:len(t)-1] + ", not checked with -quick)"
		case !ok:
			missed = append(missed, what)
		}
		return t
	}
	of := "" // says the figures are medians, when they are
	if len(rounds) > 1 {
		of = fmt.Sprintf(" (medians of %d rounds)", len(rounds))
	}
	var gms []sample
	for i, c := range rounds[0] {
		var gmN, gmS, goN, goS, ratios []float64
		for _, round := range rounds {
			c := round[i]
			gms = append(gms, c.gm)
			gmN, gmS = append(gmN, float64(c.sum.Files)), append(gmS, c.gm.wall.Seconds())
			goN, goS = append(goN, float64(c.goFiles-c.goLeft)), append(goS, c.goS.wall.Seconds())
			ratios = append(ratios, rate(c.sum.Files, c.gm.wall)/rate(c.goFiles-c.goLeft, c.goS.wall))
		}
		r := med(ratios)
		fmt.Printf("%s%s: gomaint removed %s files in %.2fs (%s/s); go clean %s removed %s in %.2fs (%s/s); ratio %.2f %s\n",
			c.label, of, commas(int64(med(gmN))), med(gmS), commas(int64(med(gmN)/med(gmS))), c.goArgs[1],
			commas(int64(med(goN))), med(goS), commas(int64(med(goN)/med(goS))), r,
			check(fmt.Sprintf("%s: removal rate ratio %.2f < %.2f", c.label, r, targetRate), r >= targetRate, ">= %.2f", targetRate))
	}
	if big != nil {
		r := rate(big.sum.Files, big.gm.wall) / rate(big.goFiles-big.goLeft, big.goS.wall)
		fmt.Printf("%s: gomaint removed %s files in %.2fs (%s/s); go clean -cache removed %s in %.2fs (%s/s); ratio %.2f %s\n",
			big.label, commas(big.sum.Files), big.gm.wall.Seconds(), commas(int64(rate(big.sum.Files, big.gm.wall))),
			commas(big.goFiles-big.goLeft), big.goS.wall.Seconds(), commas(int64(rate(big.goFiles-big.goLeft, big.goS.wall))), r,
			check(fmt.Sprintf("%s: removal rate ratio %.2f < %.2f", big.label, r, targetRate), r >= targetRate, ">= %.2f", targetRate))
	}
	rss := maxRSS(gms)
	fmt.Printf("peak RSS: gomaint clean %.1f MiB %s", rss,
		check(fmt.Sprintf("peak RSS %.1f MiB > %.0f MiB", rss, targetRSSMiB), rss <= targetRSSMiB, "<= %.0f MiB", targetRSSMiB))
	all := gms
	if big != nil {
		bigRSS := float64(big.gm.rssKiB) / 1024
		fmt.Printf("; build cache of %s entries %.1f MiB vs %.1f MiB at %s (x%.2f) %s", commas(big.tA.units.Load()),
			bigRSS, float64(rounds[0][0].gm.rssKiB)/1024, commas(rounds[0][0].tA.units.Load()), bigRSS*1024/float64(rounds[0][0].gm.rssKiB),
			check(fmt.Sprintf("peak RSS at %d entries %.1f MiB > %.0f MiB", o.big, bigRSS, targetRSSMiB), bigRSS <= targetRSSMiB, "<= %.0f MiB", targetRSSMiB))
		all = append(all, big.gm)
	}
	fmt.Printf("\n  (a child's peak RSS includes ours when it starts, as Go starts it with vfork: at most %.1f MiB here)\n", floor(all))

	for _, f := range fails {
		fmt.Println("FAIL:", f)
	}
	for _, m := range missed {
		fmt.Println("MISSED:", m)
	}
	switch {
	case len(fails)+len(missed) > 0:
		return exitMissed
	case o.quick:
		fmt.Println("OK: the harness works and gomaint trimmed both caches within their limits (targets not checked with -quick)")
	default:
		fmt.Println("PASS: all measured targets met")
	}
	return exitOK
}

// cleanRound generates both copies of both caches, times the tools on
// them and removes them. Which tool goes first alternates by round, so that
// the I/O one leaves behind does not always land on the same one.
func (b *bench) cleanRound(ctx context.Context, round int, goCmd string) ([]*cleanCache, error) {
	dir := filepath.Join(b.work, fmt.Sprintf("round%d", round+1))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	caches, err := b.generateCopies(ctx, dir)
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "clean.toml")
	if err := writeCleanConfig(cfg, "build", "build", caches[0].a, "mod", "mod", caches[1].a); err != nil {
		return nil, err
	}
	disk, err := b.audit(ctx, cfg)
	if err != nil {
		return nil, err
	}
	for _, c := range caches {
		if b.o.runs > 1 {
			c.round = round + 1
		}
		if err := c.setLimit(disk[c.name]); err != nil {
			return nil, err
		}
		runs := []func() error{func() error { return b.gomaintClean(ctx, cfg, c) }, func() error { return c.goClean(ctx, goCmd) }}
		if round%2 == 1 {
			runs[0], runs[1] = runs[1], runs[0]
		}
		for _, run := range runs {
			if err := run(); err != nil {
				return nil, err
			}
		}
	}
	if disk, err = b.audit(ctx, cfg); err != nil {
		return nil, err
	}
	for _, c := range caches {
		c.diskAfter = disk[c.name]
	}
	if b.o.runs > 1 && !b.o.keep { // free the disk for the next round
		return caches, removeTree(dir, b.o.workers, true)
	}
	return caches, nil
}

// generateCopies generates both caches twice under dir, from the same
// seeds and time, so the copies are identical. The second is the "copy".
func (b *bench) generateCopies(ctx context.Context, dir string) ([]*cleanCache, error) {
	bld := &cleanCache{name: "build", label: "build cache", goArgs: []string{"GOCACHE", "-cache"}}
	mod := &cleanCache{name: "mod", label: "module cache", goArgs: []string{"GOMODCACHE", "-modcache"}}
	var tB [2]*tally
	for i, name := range []string{"a", "b"} {
		dir := filepath.Join(dir, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, err
		}
		start := time.Now()
		bt, err := buildCache(ctx, filepath.Join(dir, "gocache"), int(84000*b.o.scale+0.5), false, b.o.workers, b.now)
		if err != nil {
			return nil, fmt.Errorf("generating the build cache: %v", err)
		}
		mt, err := modCache(ctx, filepath.Join(dir, "modcache"), int(320*b.o.scale+0.5), b.o.workers, b.now)
		if err != nil {
			return nil, fmt.Errorf("generating the module cache: %v", err)
		}
		if i == 0 {
			bld.a, bld.tA, mod.a, mod.tA = filepath.Join(dir, "gocache"), bt, filepath.Join(dir, "modcache"), mt
			fmt.Printf("generated copy A in %.1fs: build cache %s entries (%s files), module cache %s files (%s versions)\n",
				time.Since(start).Seconds(), commas(bt.units.Load()), commas(bt.files.Load()), commas(mt.files.Load()), commas(mt.units.Load()))
			continue
		}
		bld.b, mod.b, tB = filepath.Join(dir, "gocache"), filepath.Join(dir, "modcache"), [2]*tally{bt, mt}
		fmt.Printf("generated copy B (same seeds) in %.1fs, not counted\n", time.Since(start).Seconds())
	}
	for i, t := range []*tally{bld.tA, mod.tA} {
		u := tB[i]
		if t.files.Load() != u.files.Load() || t.dirs.Load() != u.dirs.Load() || t.bytes.Load() != u.bytes.Load() {
			return nil, errors.New("the two copies differ")
		}
	}
	return []*cleanCache{bld, mod}, nil
}

// writeCleanConfig writes targets given as name, kind, path triples.
// min_age is lowered to its floor, 1h: the generated entries are days old.
func writeCleanConfig(file string, triples ...string) error {
	var sb strings.Builder
	for i := 0; i+2 < len(triples); i += 3 {
		fmt.Fprintf(&sb, "[[target]]\nname = %q\nkind = %q\npath = %q\nmin_age = \"1h\"\n\n", triples[i], triples[i+1], triples[i+2])
	}
	return os.WriteFile(file, []byte(sb.String()), 0o644)
}

// audit returns gomaint's disk_bytes of each cache of cfg.
func (b *bench) audit(ctx context.Context, cfg string) (map[string]int64, error) {
	s, err := gomaintTool(b.gomaint, cfg).run(ctx)
	if err != nil {
		return nil, err
	}
	var r struct {
		Caches []struct {
			Name      string `json:"name"`
			DiskBytes int64  `json:"disk_bytes"`
		} `json:"caches"`
	}
	if err := json.Unmarshal(s.out, &r); err != nil {
		return nil, fmt.Errorf("gomaint audit's JSON: %v", err)
	}
	disk := map[string]int64{}
	for _, c := range r.Caches {
		disk[c.Name] = c.DiskBytes
	}
	return disk, nil
}

// setLimit sets the limit to half of gomaint's disk usage figure.
func (c *cleanCache) setLimit(disk int64) error {
	c.diskBefore, c.limit = disk, disk/2
	if c.limit <= 0 {
		return fmt.Errorf("%s %s: gomaint audit reports %d bytes of disk usage, nothing to halve (a tmpfs?)", c.label, c.a, disk)
	}
	return nil
}

// gomaintClean times gomaint clean trimming copy A to c.limit.
func (b *bench) gomaintClean(ctx context.Context, cfg string, c *cleanCache) error {
	before, err := countFiles(c.a)
	if err != nil {
		return err
	}
	c.filesBefore = before
	unix.Sync() // so that writeback of what came before does not land in the timing
	// gomaint exits 1 when a target ends over its limit: check() reports it.
	t := tool{name: "gomaint clean", okCodes: []int{1}, argv: []string{b.gomaint, "clean", "--config", cfg,
		"--target", c.name, "--max-size", strconv.FormatInt(c.limit, 10), "--log", "none", "--json"}}
	if c.gm, err = t.run(ctx); err != nil {
		return err
	}
	found := false
	for line := range bytes.Lines(c.gm.out) {
		var l struct {
			Summary *summary `json:"summary"`
		}
		if json.Unmarshal(line, &l) == nil && l.Summary != nil {
			c.sum, found = *l.Summary, true
		}
	}
	if !found {
		return fmt.Errorf("no summary line from gomaint clean:\n%s", c.gm.out)
	}
	// --json prints a line per removal too: megabytes that would stay in
	// our RSS, and so in the next child's (see lowerFloor).
	c.gm.out = nil
	after, err := countFiles(c.a)
	c.gmFiles = before - after
	return err
}

// goClean times go clean emptying copy B, from / so that no go.mod applies.
func (c *cleanCache) goClean(ctx context.Context, goCmd string) error {
	var err error
	if c.goFiles, err = countFiles(c.b); err != nil {
		return err
	}
	unix.Sync() // as for gomaint
	t := tool{name: "go clean", argv: []string{"env", "-C", "/", "GOFLAGS=", "GOTOOLCHAIN=local",
		c.goArgs[0] + "=" + c.b, goCmd, "clean", c.goArgs[1]}}
	if c.goS, err = t.run(ctx); err != nil {
		return err
	}
	c.goLeft, err = countFiles(c.b)
	return err
}

// check returns what went wrong in gomaint's trim of copy A.
func (c *cleanCache) check() []string {
	var fails []string
	label := c.label
	if c.round > 0 {
		label = fmt.Sprintf("%s, round %d", label, c.round)
	}
	s := c.sum
	if s.Error != "" || s.Failed > 0 {
		fails = append(fails, fmt.Sprintf("%s: gomaint clean: error %q, %d removals failed, first %q", label, s.Error, s.Failed, s.FirstError))
	}
	if !s.WithinLimit || s.Blocked != "" {
		fails = append(fails, fmt.Sprintf("%s: gomaint clean ended over its limit: within_limit %v, blocked %q", label, s.WithinLimit, s.Blocked))
	}
	if c.diskAfter > c.limit {
		fails = append(fails, fmt.Sprintf("%s: disk usage after gomaint clean %s bytes > limit %s (gomaint audit's disk_bytes)",
			label, commas(c.diskAfter), commas(c.limit)))
	}
	if s.Files != c.gmFiles {
		fails = append(fails, fmt.Sprintf("%s: gomaint clean says it removed %s files; %s regular files are gone", label, commas(s.Files), commas(c.gmFiles)))
	}
	if c.name == "mod" && c.goLeft != 0 {
		fails = append(fails, fmt.Sprintf("%s: go clean -modcache left %s files", label, commas(c.goLeft)))
	}
	return fails
}

// cleanBig generates a build cache of -big entries, with mtimes spread like
// the normal one, twice from the same seeds, and times gomaint clean
// trimming copy A to half against go clean -cache emptying copy B.
func (b *bench) cleanBig(ctx context.Context, goCmd string) (*cleanCache, error) {
	c := &cleanCache{name: "big", label: "big build cache", a: filepath.Join(b.work, "big", "gocache"),
		b: filepath.Join(b.work, "big-b", "gocache"), goArgs: []string{"GOCACHE", "-cache"}}
	var tB *tally
	for _, dir := range []string{c.a, c.b} {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, err
		}
		start := time.Now()
		t, err := buildCache(ctx, dir, b.o.big, false, b.o.workers, b.now)
		if err != nil {
			return nil, fmt.Errorf("generating the big build cache: %v", err)
		}
		if c.tA == nil {
			c.tA = t
		} else {
			tB = t
		}
		fmt.Printf("generated a build cache of %s entries in %.1fs\n", commas(t.units.Load()), time.Since(start).Seconds())
	}
	if c.tA.files.Load() != tB.files.Load() || c.tA.bytes.Load() != tB.bytes.Load() {
		return nil, errors.New("the two big copies differ")
	}
	cfg := filepath.Join(b.work, "big.toml")
	if err := writeCleanConfig(cfg, c.name, "build", c.a); err != nil {
		return nil, err
	}
	disk, err := b.audit(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := c.setLimit(disk[c.name]); err != nil {
		return nil, err
	}
	if err := b.gomaintClean(ctx, cfg, c); err != nil {
		return nil, err
	}
	if err := c.goClean(ctx, goCmd); err != nil {
		return nil, err
	}
	if disk, err = b.audit(ctx, cfg); err != nil {
		return nil, err
	}
	c.diskAfter = disk[c.name]
	return c, nil
}

func printCleanTable(rounds [][]*cleanCache, big *cleanCache) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "cache\ttool\tfiles before\tremoved\tentries removed\twall\tgomaint's own\tCPU\tfiles/s\tpeak RSS\tdisk before\tlimit\tdisk after\t")
	row := func(c *cleanCache) {
		label := c.label
		if c.round > 0 {
			label = fmt.Sprintf("%s #%d", label, c.round)
		}
		units := c.sum.Units
		if c.name == "mod" {
			units = c.sum.Versions
		}
		fmt.Fprintf(w, "%s\tgomaint clean\t%s\t%s\t%s/%s\t%s\t%.3fs\t%s\t%s\t%.1f MiB\t%s\t%s\t%s\t\n", label,
			commas(c.filesBefore), commas(c.sum.Files), commas(units), commas(c.tA.units.Load()), secs(c.gm.wall.Seconds()),
			float64(c.sum.DurationMS)/1000, secs(c.gm.cpu.Seconds()), commas(int64(rate(c.sum.Files, c.gm.wall))),
			float64(c.gm.rssKiB)/1024, mib(c.diskBefore), mib(c.limit), mib(c.diskAfter))
		if c.b == "" {
			return
		}
		fmt.Fprintf(w, "%s\tgo clean %s\t%s\t%s\tall\t%s\t\t%s\t%s\t%.1f MiB\t\t\t\t\n", label, c.goArgs[1], commas(c.goFiles),
			commas(c.goFiles-c.goLeft), secs(c.goS.wall.Seconds()), secs(c.goS.cpu.Seconds()),
			commas(int64(rate(c.goFiles-c.goLeft, c.goS.wall))), float64(c.goS.rssKiB)/1024)
	}
	for i := range rounds[0] {
		for _, round := range rounds {
			row(round[i])
		}
	}
	if big != nil {
		row(big)
	}
	w.Flush()
}

// discardMount returns the mount point holding dir if it is mounted with
// the discard option, else "".
func discardMount(dir string) string {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return ""
	}
	best, opts := "", ""
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		mnt := f[1]
		if (dir == mnt || strings.HasPrefix(dir, strings.TrimSuffix(mnt, "/")+"/")) && len(mnt) >= len(best) {
			best, opts = mnt, f[3]
		}
	}
	if slices.Contains(strings.Split(opts, ","), "discard") {
		return best
	}
	return ""
}

// countFiles counts the regular files under dir; a missing dir has none.
func countFiles(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return n, nil
	}
	return n, err
}

func med(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	return (xs[(n-1)/2] + xs[n/2]) / 2
}

func rate(files int64, d time.Duration) float64 { return float64(files) / d.Seconds() }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// commas writes n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var sb strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(r)
	}
	if neg {
		return "-" + sb.String()
	}
	return sb.String()
}
