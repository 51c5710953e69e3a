package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
	if dirs, files := after[d.stateDir+"/"].Fsyncs-before[d.stateDir+"/"].Fsyncs, after[status].Writes-before[status].Writes; dirs != files {
		t.Errorf("%d fsyncs of the state directory for %d rewrites of status.json", dirs, files)
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
