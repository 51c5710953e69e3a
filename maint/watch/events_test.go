package watch

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// entry is the name of a build cache entry: 64 hex digits and a kind.
func entry(i int, kind string) string {
	return strings.Repeat("0", 64-len(strconv.Itoa(i))) + strconv.Itoa(i) + "-" + kind
}

// TestWriteCountsAndOver: entries written into a watched shard on a real
// directory are added to the estimate as the kernel reports them, and
// Over is called once the estimate passes the limit; go's temporary files
// are not counted.
func TestWriteCountsAndOver(t *testing.T) {
	dir := cache(t, allShards()...)
	var over atomic.Int32
	w, _ := open(t, dir, Options{Limit: 3 << 20, Over: func() { over.Add(1) }}, true)
	shard := filepath.Join(dir, "00")
	if err := os.WriteFile(filepath.Join(shard, "tmp-12345"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := os.WriteFile(filepath.Join(shard, entry(i, "d")), make([]byte, 1<<20), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "two entries of 1 MiB counted", func() bool {
		b, f := w.Estimate()
		return b >= 2<<20 && f == 2
	})
	if b, _ := w.Estimate(); b >= 3<<20 || over.Load() != 0 {
		t.Fatalf("estimate %d with the temporary file counted, or Over called %d times below the limit", b, over.Load())
	}
	if err := os.WriteFile(filepath.Join(dir, "ff", entry(2, "d")), make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "Over called past the limit", func() bool { return over.Load() > 0 })
}

// TestRemoveKeepsEstimate: a removal takes the entry off the file count
// but not its bytes off the estimate (inotify does not say what it
// weighed), so the estimate errs high until Adjust makes it exact.
func TestRemoveKeepsEstimate(t *testing.T) {
	dir := cache(t, "ab")
	w, _ := open(t, dir, Options{}, true)
	p := filepath.Join(dir, "ab", entry(1, "d"))
	if err := os.WriteFile(p, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the entry counted", func() bool { b, f := w.Estimate(); return b >= 1<<20 && f == 1 })
	before, _ := w.Estimate()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the removal seen", func() bool { _, f := w.Estimate(); return f == 0 })
	if b, _ := w.Estimate(); b != before {
		t.Errorf("estimate after a removal %d, want it kept at %d", b, before)
	}
	w.Adjust(4096 - before) // a count found 4096 bytes
	if b, f := w.Estimate(); b != 4096 || f != 0 {
		t.Errorf("after Adjust to a count of 4096 bytes: %d bytes, %d files", b, f)
	}
}

// TestKernelOverflow: when more events arrive than the kernel queues
// (fs.inotify.max_queued_events), the kernel's own IN_Q_OVERFLOW reaches
// Overflow, and a shard made while events were being lost is watched.
func TestKernelOverflow(t *testing.T) {
	data, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Fatal(err)
	}
	queued, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || queued > 1<<20 {
		t.Fatalf("fs.inotify.max_queued_events %q: want a number up to %d, to overflow it", data, 1<<20)
	}
	shards := allShards()
	dir := cache(t, shards[:255]...)
	overflowed := make(chan struct{}, 1)
	w, _ := open(t, dir, Options{Overflow: func() {
		select {
		case overflowed <- struct{}{}:
		default:
		}
	}}, false)
	// Nobody reads yet: each empty file is an IN_CREATE and an
	// IN_CLOSE_WRITE, so half the queue's length in files overflows it.
	for i := range queued/2 + 100 {
		f, err := os.Create(filepath.Join(dir, "00", "tmp-"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if err := os.Mkdir(filepath.Join(dir, "ff"), 0o755); err != nil { // its event is lost
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run() }()
	t.Cleanup(func() { w.Close(); <-done })
	select {
	case <-overflowed:
	case err := <-done:
		t.Fatalf("Run returned %v before an overflow", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no Overflow call after the kernel's queue overflowed")
	}
	eventually(t, 5*time.Second, "the shard made during the overflow watched", func() bool { return w.Watches() == 256 })
}
