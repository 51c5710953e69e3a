package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestLiveFloor (issue 14 item 3): when other files fill the file system
// of a watched cache below its min_free, the daemon trims the cache's
// oldest entries within seconds, not at the next audit, though the cache
// is far under max_size.
func TestLiveFloor(t *testing.T) {
	mnt := testenv.Mount(t, testenv.Dir(t), "tmpfs", "tmpfs", "size=64m")
	cache := filepath.Join(mnt, "go-build")
	testenv.BuildCache(t, cache, 400, 20000, 72*time.Hour) // about 8 MiB, old
	tg := buildTarget(cache, 1<<30, time.Hour)
	tg.MinFree = config.Floor{Bytes: 24 << 20}
	d := runDaemon(t, quiet(tg))
	d.await(t, "last audit", 60*time.Second)
	watchEvent(t, d, 0, "watching", "", 10*time.Second)

	free := func() int64 {
		var fs unix.Statfs_t
		if err := unix.Statfs(mnt, &fs); err != nil {
			t.Fatal(err)
		}
		return int64(fs.Bavail) * fs.Bsize
	}
	// Leave 20 MiB free: 4 MiB below the floor, which the cache can give.
	filler := make([]byte, free()-20<<20)
	if err := os.WriteFile(filepath.Join(mnt, "filler"), filler, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for free() < 24<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes free 15 s after the floor of %d was crossed; cache %d bytes", free(), 24<<20, diskUsage(t, cache))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The trim's event comes when it ends, after the space is back.
	for !trimFor(d, "min_free") {
		if time.Now().After(deadline) {
			t.Fatal("no TRIM event with GOMAINT_REASON=min_free")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if left := diskUsage(t, cache); left <= 0 {
		t.Errorf("the trim emptied the cache (%d bytes left) for a 4 MiB deficit", left)
	}
}

// trimFor reports whether the daemon journaled a trim for reason.
func trimFor(d *inProcess, reason string) bool {
	for _, e := range d.events.Snapshot() {
		if e.Type.Event == "trim" && e.Fields["GOMAINT_REASON"] == reason {
			return true
		}
	}
	return false
}
