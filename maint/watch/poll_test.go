package watch

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPolledWatch: a polled watch keeps its instance out of the runtime's
// poller (a blocking fd), still hears of what is written between polls,
// and Drain has Run handle every event queued before it returns nil.
func TestPolledWatch(t *testing.T) {
	dir := cache(t, allShards()...)
	counts := &Counts{}
	w, done := open(t, dir, Options{NoShardFDs: true, Counts: counts, Poll: 50 * time.Millisecond}, true)
	flags, err := unix.FcntlInt(w.file.Fd(), unix.F_GETFL, 0)
	if err != nil || flags&unix.O_NONBLOCK != 0 {
		t.Fatalf("instance flags %#x, %v: want a blocking fd, out of the poller", flags, err)
	}
	os.WriteFile(filepath.Join(dir, "ab", strings.Repeat("ab", 32)+"-d"), make([]byte, 64<<10), 0o644)
	eventually(t, 5*time.Second, "a write counts at a poll", func() bool { b, _ := w.Estimate(); return b >= 64<<10 })

	const lookups = 300
	for i := range lookups {
		name := filepath.Join(dir, "cd", strconv.Itoa(i)+strings.Repeat("c", 64-len(strconv.Itoa(i)))+"-a")
		if err := os.WriteFile(name, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := os.ReadFile(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Drain(); err != nil {
		t.Fatal(err)
	}
	returnsNil(t, done, "Drain")
	if h, m := counts.Hits.Load(), counts.Misses.Load(); h != lookups || m != lookups {
		t.Errorf("%d hits and %d misses after Drain; want %d of each", h, m, lookups)
	}
}

// TestPolledWatchClose: Close ends a polled Run between polls.
func TestPolledWatchClose(t *testing.T) {
	dir := cache(t, "00")
	w, done := open(t, dir, Options{NoShardFDs: true, Counts: &Counts{}, Poll: time.Hour}, true)
	w.Close()
	returnsNil(t, done, "Close")
}

// returnsNil waits for Run, after the call named after, to return nil.
func returnsNil(t *testing.T, done <-chan error, after string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after %s: %v", after, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Run did not return after %s", after)
	}
}
