// The -clean mode's rounds: generating the copies and timing each tool on them.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

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
	if err := writeConfig(cfg, "", configFile{Targets: []target{cleanTarget("build", "build", caches[0].a), cleanTarget("mod", "mod", caches[1].a)}}); err != nil {
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
	if err := writeConfig(cfg, "", configFile{Targets: []target{cleanTarget(c.name, "build", c.a)}}); err != nil {
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

// cleanTarget is a target for gomaint clean, with min_age lowered to its
// floor, 1h: the generated entries are days old.
func cleanTarget(name, kind, path string) target {
	return target{Name: name, Kind: kind, Path: path, MinAge: "1h"}
}
