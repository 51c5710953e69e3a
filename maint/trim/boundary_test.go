package trim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestExactAtBoundary: on a tmpfs where every entry falls in one bucket of
// the histogram (300 entries used within five minutes, two days ago), a
// size trim removes the least recently used and stops within one entry of
// its low water, instead of taking the whole bucket.
func TestExactAtBoundary(t *testing.T) {
	testenv.Root(t)
	dir := testenv.Mount(t, testenv.Dir(t), "tmpfs", "tmpfs", "size=64m")
	const n, size = 300, 40 << 10
	names := testenv.BuildCache(t, dir, n/2, size, 0)
	now := time.Now()
	ages := map[string]time.Duration{}
	for i, name := range names {
		age := 48*time.Hour + time.Duration(i)*time.Second
		when := now.Add(-age)
		mustT(t, os.Chtimes(filepath.Join(dir, name), when, when))
		ages[name] = age
	}
	if b := bucketOf(48 * time.Hour); b != bucketOf(48*time.Hour+n*time.Second) {
		t.Fatalf("the fixture spans buckets %d..%d: it tests nothing", b, bucketOf(48*time.Hour+n*time.Second))
	}
	root, err := safefs.OpenRoot(dir)
	mustT(t, err)
	defer root.Close()
	probe, err := Build(context.Background(), root, Policy{MinAge: time.Hour}, Options{DryRun: true, Now: now})
	mustT(t, err)
	low := probe.DiskBytesBefore * 4 / 10
	res, err := Build(context.Background(), root, Policy{MaxSize: probe.DiskBytesBefore - 1, LowWater: low, MinAge: time.Hour}, Options{Now: now})
	mustT(t, err)
	var left int64
	oldestKept, youngestGone := time.Duration(0), time.Duration(1<<62)
	for name, age := range ages {
		st, err := os.Lstat(filepath.Join(dir, name))
		if err == nil {
			left += st.Size()
			oldestKept = max(oldestKept, age)
		} else {
			youngestGone = min(youngestGone, age)
		}
	}
	const entry = size + 4096 // an output entry, in blocks
	t.Logf("from %s to %s (low water %s), %d removed", fmtB(res.DiskBytesBefore), fmtB(res.DiskBytesAfter), fmtB(low), res.Units)
	if res.DiskBytesAfter > low || res.DiskBytesAfter < low-entry {
		t.Errorf("the trim ended at %s: want at most the low water %s and within one entry (%s) of it", fmtB(res.DiskBytesAfter), fmtB(low), fmtB(entry))
	}
	if oldestKept >= youngestGone {
		t.Errorf("an entry %v old was kept while one %v old went", oldestKept, youngestGone)
	}
}

func fmtB(b int64) string { return fmt.Sprintf("%.2fMiB", float64(b)/(1<<20)) }
