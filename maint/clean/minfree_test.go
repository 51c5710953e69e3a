package clean

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/testenv"
)

// fullTmpfs is a build cache on a small tmpfs that a file beside it fills
// to the last byte: 30 pairs of entries used 10 days ago and more, 10
// pairs used 10 minutes ago. It returns the cache and each entry's age.
func fullTmpfs(t *testing.T) (string, map[string]time.Duration) {
	t.Helper()
	testenv.Root(t)
	mnt := testenv.Mount(t, testenv.Dir(t), "tmpfs", "tmpfs", "size=8m")
	cache := filepath.Join(mnt, "gocache")
	names := testenv.BuildCache(t, cache, 40, 40<<10, 0)
	ages := map[string]time.Duration{}
	now := time.Now()
	for i, n := range names {
		age := 10*24*time.Hour + time.Duration(60-i)*time.Hour // the first written, the oldest
		if i >= 60 {
			age = 10 * time.Minute
		}
		when := now.Add(-age)
		if err := os.Chtimes(filepath.Join(cache, n), when, when); err != nil {
			t.Fatal(err)
		}
		ages[filepath.Join(cache, n)] = age
	}
	f, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); errors.Is(err, unix.ENOSPC) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if free := freeOn(t, cache); free != 0 {
		t.Fatalf("the tmpfs is not full: %d bytes free", free)
	}
	return cache, ages
}

func freeOn(t *testing.T, path string) int64 {
	t.Helper()
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		t.Fatal(err)
	}
	return int64(fs.Bavail) * fs.Frsize
}

func trimEvent(t *testing.T, sink *journal.Memory) journal.Event {
	t.Helper()
	for _, e := range sink.Snapshot() {
		if e.Type == journal.Trim {
			return e
		}
	}
	t.Fatal("no TRIM event")
	return journal.Event{}
}

// TestMinFree: on a file system full to 100%, with the cache under any
// size limit, a clean removes least recently used first until min_free is
// free again, and no more than one entry beyond; the TRIM event says why.
// MustFree tells the daemon the same before, and 0 after.
func TestMinFree(t *testing.T) {
	cache, ages := fullTmpfs(t)
	const floor = 1 << 20
	cfg := cfgFor(config.Build, cache, func(tg *config.Target) { tg.MinFree = config.Floor{Bytes: floor} })
	if need, err := MustFree(cfg.Targets[0], cache); err != nil || need != floor {
		t.Fatalf("MustFree before: %d, %v; want %d", need, err, floor)
	}
	out, _, sink := run(t, cfg, false, nil)
	free := freeOn(t, cache)
	t.Logf("freed %d bytes in %d units; %d free now", out.FreedBytes, out.Units, free)
	if !out.OK() || free < floor || free > floor+44<<10 {
		t.Errorf("%+v: %d free after the clean; want at least min_free %d and within one entry of it", out.Result, free, floor)
	}
	oldestKept, youngestGone := time.Duration(0), time.Duration(1<<62)
	for p, age := range ages {
		if _, err := os.Lstat(p); err == nil {
			oldestKept = max(oldestKept, age)
		} else {
			youngestGone = min(youngestGone, age)
		}
	}
	if oldestKept >= youngestGone || youngestGone < time.Hour {
		t.Errorf("kept an entry %v old, removed one %v old", oldestKept, youngestGone)
	}
	e := trimEvent(t, sink)
	if !strings.Contains(e.Fields["GOMAINT_REASON"], "min_free") || e.Fields["GOMAINT_MIN_FREE"] != strconv.Itoa(floor) ||
		e.Fields["GOMAINT_FREE_BYTES"] != "0" || !strings.Contains(e.Message, "below min_free") {
		t.Errorf("TRIM event %q %v: want the reason min_free, the floor and the free space", e.Message, e.Fields)
	}
	if need, err := MustFree(cfg.Targets[0], cache); err != nil || need != 0 {
		t.Errorf("MustFree after: %d, %v; want 0", need, err)
	}
}

// TestMinFreeBlocked: a floor that cannot be met without breaking min_age
// removes everything older and says so.
func TestMinFreeBlocked(t *testing.T) {
	cache, ages := fullTmpfs(t)
	cfg := cfgFor(config.Build, cache, func(tg *config.Target) { tg.MinFree = config.Floor{Percent: 90} })
	out, _, sink := run(t, cfg, false, nil)
	if out.OK() || !strings.Contains(out.Blocked, "min_age") {
		t.Errorf("%+v: want the floor missed, blocked by min_age", out.Result)
	}
	for p, age := range ages {
		_, err := os.Lstat(p)
		if gone := err != nil; gone != (age > time.Hour) {
			t.Errorf("%s, %v old: gone %v", p, age, gone)
		}
	}
	if e := trimEvent(t, sink); e.Fields["GOMAINT_BLOCKED"] == "" || e.Priority != journal.Warning {
		t.Errorf("TRIM event %v: want GOMAINT_BLOCKED at warning", e.Fields)
	}
}
