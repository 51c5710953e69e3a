package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestUnchangedRunWritesNothing (issue 21): runs that change nothing in
// the status or the metrics (safety-net rescans of an idle cache) rewrite
// neither file, though the status's updated time moves; a run that
// changes a figure rewrites both, with one fsync of each directory.
func TestUnchangedRunWritesNothing(t *testing.T) {
	// A file system of its own: nothing else changes its free space,
	// which both files report.
	mnt := testenv.Mount(t, t.TempDir(), "tmpfs", "tmpfs", "size=16m")
	cache, mdir := filepath.Join(mnt, "gocache"), filepath.Join(mnt, "metrics")
	for _, d := range []string{cache + "/00", mdir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := quiet(buildTarget(cache, 8<<20, time.Hour))
	cfg.Daemon.MetricsDir = mdir
	d := runDaemon(t, cfg, func(o *Options) { o.Intervals.SafetyNet = 100 * time.Millisecond })
	d.await(t, "last audit", 30*time.Second)
	status, prom := filepath.Join(d.stateDir, stateFile), filepath.Join(mdir, metrics.FileName)
	rescans := func(n int) {
		t.Helper()
		for range n {
			d.await(t, "running rescan of build (safety-net)", 10*time.Second)
		}
		d.await(t, "last audit", 10*time.Second) // the last one ended
	}
	rescans(2) // the first figures settled
	inoS, inoP := inode(t, status), inode(t, prom)
	before := safefs.Written()
	rescans(5)
	after := safefs.Written()
	for _, f := range []string{status, prom, d.stateDir + "/", mdir + "/"} {
		if b, a := before[f], after[f]; a != b {
			t.Errorf("%s written by runs that changed nothing: %+v, then %+v", f, b, a)
		}
	}
	if inode(t, status) != inoS || inode(t, prom) != inoP {
		t.Error("a file was replaced by runs that changed nothing")
	}

	// A new entry changes the cache's figures: both files are rewritten.
	if err := os.WriteFile(filepath.Join(cache, "00", strings.Repeat("0", 64)+"-a"), make([]byte, 9000), 0o644); err != nil {
		t.Fatal(err)
	}
	rescans(2)
	after = safefs.Written()
	for _, f := range []string{status, prom} {
		if after[f].Writes == before[f].Writes || after[f].Fsyncs-before[f].Fsyncs != after[f].Writes-before[f].Writes {
			t.Errorf("%s after a change: %+v, then %+v; want rewritten, one fsync each", f, before[f], after[f])
		}
	}
	// The entry is a miss too, so stats.json (issue 16) may be saved with
	// the status: one fsync of the directory per file rewritten, at most.
	counts := filepath.Join(d.stateDir, statsFile)
	files := after[status].Writes - before[status].Writes + after[counts].Writes - before[counts].Writes
	if dirs := after[d.stateDir+"/"].Fsyncs - before[d.stateDir+"/"].Fsyncs; dirs > files {
		t.Errorf("%d fsyncs of the state directory for %d rewrites of status.json and stats.json", dirs, files)
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// TestLowIOAuto (issue 21): with low_io = "auto", a state directory on an
// SD card (a sysfs that says so) turns low_io on: the status says why,
// the default hourly audit runs every 6 hours, and the watch's rescans
// come at low_io's intervals; false keeps the usual ones whatever the
// storage.
func TestLowIOAuto(t *testing.T) {
	cache := t.TempDir()
	sys := t.TempDir()
	var st unix.Stat_t
	if err := unix.Stat(cache, &st); err != nil {
		t.Fatal(err)
	}
	const card = "devices/platform/axi/1000fff000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0"
	for _, p := range []string{card + "/mmcblk0p2", "dev/block"} {
		if err := os.MkdirAll(filepath.Join(sys, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(sys, card, "mmcblk0p2", "partition"), []byte("2\n"), 0o644)
	// The test's own file systems, as if they were the card's partition
	// (the state directory is under another TempDir: both are named).
	for _, dir := range []string{cache, os.TempDir()} {
		var s unix.Stat_t
		unix.Stat(dir, &s)
		name := filepath.Join(sys, "dev", "block", fmt.Sprintf("%d:%d", unix.Major(s.Dev), unix.Minor(s.Dev)))
		os.Symlink("../../"+card+"/mmcblk0p2", name) // one of them may exist already
	}
	for _, c := range []struct {
		low  config.LowIO
		want string
		next time.Duration
		iv   Intervals
	}{
		{config.LowIOAuto, "mmcblk0 is an SD card or eMMC", config.LowIOAuditEvery, lowIOIntervals},
		{config.LowIOOff, "", time.Hour, defaultIntervals},
	} {
		cfg := quiet(config.Target{Name: "mod", Kind: config.Mod, Path: cache, Mode: "private"})
		cfg.Daemon.AuditSchedule, cfg.Daemon.LowIO = config.DefaultAuditSchedule, c.low
		d := runDaemon(t, cfg, func(o *Options) { o.Sysfs = sys })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := Ask(ctx, d.socket, Request{Command: "status"})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		st := resp.Status
		if c.want == "" && st.LowIO != "" || !strings.Contains(st.LowIO, c.want) {
			t.Errorf("low_io %v: status says %q, want %q", c.low, st.LowIO, c.want)
		}
		if in := time.Until(st.NextAudit); in > c.next || in < c.next-time.Hour {
			t.Errorf("low_io %v: next audit in %s, want within an hour before %s", c.low, in, c.next)
		}
	}
	if iv := (&daemon{}).intervals(true); iv != lowIOIntervals {
		t.Errorf("low_io intervals %+v, want %+v", iv, lowIOIntervals)
	}
	if iv := (&daemon{opt: Options{Intervals: Intervals{SafetyNet: time.Second}}}).intervals(true); iv.SafetyNet != time.Second || iv.Degraded != lowIOIntervals.Degraded {
		t.Errorf("low_io intervals under an explicit safety net: %+v", iv)
	}
}
