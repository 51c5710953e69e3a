package daemon

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestTrimKeepsFileCount: through a limit trim of a watched cache, the
// file count in the status never goes below zero, and ends as the number
// of files left. The watch takes each removal off as its IN_DELETE comes;
// the trim's own count of what it removed must not be taken off a second
// time (the e2e saw "-49 files" in gomaint status).
func TestTrimKeepsFileCount(t *testing.T) {
	cache := filepath.Join(testenv.Dir(t), "go-build")
	testenv.BuildCache(t, cache, 200, 20000, 72*time.Hour) // 400 files, about 4.8 MiB
	d := runDaemon(t, quiet(buildTarget(cache, 2<<20, time.Millisecond)))
	lowest, settled := int64(1<<62), time.Time{}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		resp, err := Ask(context.Background(), d.socket, Request{Command: "status"})
		if err != nil || len(resp.Status.Targets) != 1 {
			continue // not listening yet
		}
		got := resp.Status.Targets[0].Files
		lowest = min(lowest, got)
		if left := regularFiles(cache); got != left || diskUsage(t, cache) > 2<<20 {
			settled = time.Time{}
		} else if settled.IsZero() {
			settled = time.Now()
		} else if time.Since(settled) > time.Second {
			break
		}
	}
	if lowest < 0 {
		t.Errorf("the status counted %d files during the trim", lowest)
	}
	if settled.IsZero() || time.Since(settled) < time.Second {
		t.Errorf("the status did not settle at the %d files left (it says %d)", regularFiles(cache), status(t, d).Targets[0].Files)
	}
}

func regularFiles(dir string) (n int64) {
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}
