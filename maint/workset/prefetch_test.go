package workset

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/trim"
)

// prefetched waits until the prefetcher has read the action entry id.
func prefetched(t *testing.T, b *Build, id string) readEntry {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		b.mu.Lock()
		r, ok := b.pf.actions[id]
		b.mu.Unlock()
		if ok {
			return r
		}
	}
	t.Fatalf("the prefetcher never read %s", id)
	return readEntry{}
}

// TestPrefetchRereadsWhatChanged: entries the prefetcher read while the
// run went on, then rewritten or removed, are taken as they are at the
// end, and its own reads are no hits.
func TestPrefetchRereadsWhatChanged(t *testing.T) {
	cache := oldCache(t, 4)
	rewritten, removed, kept := id(0, 1), id(1, 1), id(2, 1)
	newOut := id(0, 3)
	putOutput(t, cache, newOut)
	root, err := safefs.OpenRoot(cache)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	b, err := Watch(root)
	if err != nil {
		t.Fatal(err)
	}
	b.Measure()
	for _, a := range []string{rewritten, removed, kept} {
		look(t, cache, a)
	}
	for _, a := range []string{rewritten, removed, kept} {
		if r := prefetched(t, b, a); r.err != nil || r.out != a[:62]+"02" {
			t.Fatalf("prefetched %s: %+v", a, r)
		}
	}
	putAction(t, cache, rewritten, newOut) // go rewrites it in place
	if err := os.Remove(filepath.Join(cache, removed[:2], removed+"-a")); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Hits() != 3 || b.pf.own.Load() == 0 {
		t.Errorf("hits %d (the watch saw %d, the prefetcher read %d); want the 3 lookups", b.Hits(), b.Counts.Hits.Load(), b.pf.own.Load())
	}
	s := b.Set()
	if s.Entries != 2 || s.Lost != 1 || !s.outputs[newOut] || s.outputs[id(0, 2)] || !s.outputs[id(2, 2)] {
		t.Errorf("set %+v; want the rewritten entry's new output, the removed entry lost", s)
	}
	res, err := b.Prune(context.Background(), s, trim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{newOut + "-d", kept + "-a", id(2, 2) + "-d"} {
		if !exists(filepath.Join(cache, n[:2], n)) {
			t.Errorf("%s was pruned", n)
		}
	}
	if exists(filepath.Join(cache, "00", id(0, 2)+"-d")) || exists(filepath.Join(cache, "03", id(3, 1)+"-a")) {
		t.Errorf("the rewritten entry's old output or an unused entry was kept (pruned %d units)", res.Units)
	}
}
