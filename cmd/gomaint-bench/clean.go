package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"text/tabwriter"
)

// The -clean mode: gomaint clean trims one copy of each cache to half its
// disk usage, go clean -cache and -modcache empty an identical second copy,
// and the removal rates (files per second) are compared. A run destroys
// its copy, so each tool runs once per round; -runs N makes N rounds on
// fresh trees and compares medians. The page cache stays warm for both
// tools; only a sync before each run keeps earlier writeback out of it.

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
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return setupErr(err)
	}
	b, err := newBench(ctx, o)
	if err != nil {
		return setupErr(err)
	}
	defer b.cleanup()
	// gomaint keeps its target locks in $XDG_RUNTIME_DIR/gomaint: keep them
	// in the work dir, apart from any real gomaint's "build" and "mod".
	if err := os.Setenv("XDG_RUNTIME_DIR", b.work); err != nil {
		return setupErr(err)
	}
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
		r := median(ratios)
		fmt.Printf("%s%s: gomaint removed %s files in %.2fs (%s/s); go clean %s removed %s in %.2fs (%s/s); ratio %.2f %s\n",
			c.label, of, commas(int64(median(gmN))), median(gmS), commas(int64(median(gmN)/median(gmS))), c.goArgs[1],
			commas(int64(median(goN))), median(goS), commas(int64(median(goN)/median(goS))), r,
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

	return verdict(fails, missed, o.quick, "the harness works and gomaint trimmed both caches within their limits")
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
