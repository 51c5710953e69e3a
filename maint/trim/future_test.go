package trim

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestFutureTimestamps: entries dated 2100 count as used now until
// min_age has passed since they were dated (their ctime), then as the
// oldest: a size trim takes them first, and no others.
func TestFutureTimestamps(t *testing.T) {
	dir := t.TempDir()
	normal := testenv.BuildCache(t, dir, 10, 1000, 0)
	future := testenv.BuildCache(t, dir, 2, 100<<10, 0)
	now := time.Now()
	for i, n := range normal {
		when := now.Add(-time.Duration(i+1) * 24 * time.Hour)
		mustT(t, os.Chtimes(filepath.Join(dir, n), when, when))
	}
	y2100 := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range future {
		mustT(t, os.Chtimes(filepath.Join(dir, n), y2100, y2100))
	}
	root, err := safefs.OpenRoot(dir)
	mustT(t, err)
	defer root.Close()
	trimAt := func(at time.Time, p Policy) *Result {
		t.Helper()
		res, err := Build(context.Background(), root, p, Options{Now: at})
		mustT(t, err)
		return res
	}
	gone := func(names []string) (n int) {
		for _, name := range names {
			if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
				n++
			}
		}
		return n
	}
	// Just dated: used now, so protected by min_age from any trim.
	before := trimAt(now, Policy{MinAge: time.Hour}).DiskBytesBefore
	trimAt(now, Policy{MaxSize: 1, LowWater: 1, MaxAge: 2 * time.Hour, MinAge: time.Hour})
	if gone(future) != 0 || gone(normal) != len(normal) {
		t.Fatalf("just dated: %d of %d future entries and %d of %d others removed; want none and all",
			gone(future), len(future), gone(normal), len(normal))
	}
	normal = testenv.BuildCache(t, dir, 10, 1000, 0)
	for i, n := range normal {
		when := now.Add(-time.Duration(i+1) * 24 * time.Hour)
		mustT(t, os.Chtimes(filepath.Join(dir, n), when, when))
	}
	// Two hours on (min_age 1h): the oldest, so a trim needing about
	// their size takes them and at most one other entry.
	later := now.Add(2 * time.Hour)
	before = trimAt(later, Policy{MinAge: time.Hour}).DiskBytesBefore
	res := trimAt(later, Policy{MaxSize: before - 1, LowWater: before - 200<<10, MinAge: time.Hour})
	if gone(future) != len(future) || gone(normal) > 1 {
		t.Errorf("min_age after being dated: %d of %d future entries and %d others removed (%+v); want all, and at most one",
			gone(future), len(future), gone(normal), res)
	}
}
