package watch

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

type tally struct{ hits, misses, created, written int64 }

// settled waits until c stops changing (inotify events arrive after the
// go command exits) and returns what it counted since the last call.
func settled(t *testing.T, c *Counts) tally {
	t.Helper()
	var last tally
	for still := 0; still < 4; {
		time.Sleep(100 * time.Millisecond)
		now := tally{c.Hits.Load(), c.Misses.Load(), c.Created.Load(), c.WrittenBytes.Load()}
		if now == last {
			still++
		} else {
			still, last = 0, now
		}
	}
	c.Hits.Store(0)
	c.Misses.Store(0)
	c.Created.Store(0)
	c.WrittenBytes.Store(0)
	return last
}

// TestCountsRealBuilds (issue 16): counted against go itself. After go
// clean -cache a build is almost all misses, the same build again almost
// all hits, and go test's cached result is hits.
func TestCountsRealBuilds(t *testing.T) {
	testenv.Command(t, "go")
	dir := testenv.Dir(t)
	env := testenv.GoEnv(dir)
	src := testenv.StdModule(t, dir, "counts", "encoding/json")
	gocache := testenv.GoCacheRoot(t, dir)
	var c Counts
	_, done := open(t, gocache, Options{Counts: &c}, true)

	testenv.Run(t, env, src, "go", "clean", "-cache")
	settled(t, &c)
	testenv.Run(t, env, src, "go", "build", "-o", os.DevNull, ".")
	cold := settled(t, &c)
	t.Logf("cold build: %+v", cold)
	if cold.misses < 20 || cold.hits*10 > cold.hits+cold.misses || cold.created != cold.misses || cold.written <= 0 {
		t.Errorf("a build after go clean -cache counted %+v, want almost all misses, each a new entry, and bytes written", cold)
	}

	testenv.Run(t, env, src, "go", "build", "-o", os.DevNull, ".")
	warm := settled(t, &c)
	t.Logf("warm build: %+v", warm)
	if warm.hits < 20 || warm.misses*10 > warm.hits+warm.misses {
		t.Errorf("the same build again counted %+v, want almost all hits", warm)
	}

	testenv.Run(t, env, src, "go", "test", ".")
	settled(t, &c)
	out := testenv.Run(t, env, src, "go", "test", ".")
	if !strings.Contains(out, "(cached)") {
		t.Fatalf("go test ran the test again: %s", out)
	}
	cached := settled(t, &c)
	t.Logf("cached go test: %+v", cached)
	if cached.hits < 5 || cached.misses*10 > cached.hits+cached.misses {
		t.Errorf("a cached go test counted %+v, want hits", cached)
	}
	select {
	case err := <-done:
		t.Fatalf("the watch ended: %v", err)
	default:
	}
}

// TestWipedByGoClean: someone's go clean -cache removes every shard
// directory (not the root), which the watch reports.
func TestWipedByGoClean(t *testing.T) {
	testenv.Command(t, "go")
	dir := testenv.Dir(t)
	env := testenv.GoEnv(dir)
	wiped := make(chan struct{}, 4)
	open(t, testenv.GoCacheRoot(t, dir), Options{Counts: &Counts{}, Wiped: func() { wiped <- struct{}{} }}, true)
	testenv.Run(t, env, dir, "go", "clean", "-cache")
	select {
	case <-wiped:
	case <-time.After(10 * time.Second):
		t.Fatal("go clean -cache was not reported")
	}
}

func randomID() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return []byte(hex.EncodeToString(b))
}

// TestEvictedFilter: every id added is found; ids never added are
// mistaken for evicted rarely (the stated 1.2% at capacity); ids are
// forgotten after two spans.
func TestEvictedFilter(t *testing.T) {
	now := time.Now()
	e := Evicted{nowFunc: func() time.Time { return now }}
	var ids [][]byte
	for i := 0; i < evictedCap; i++ {
		id := randomID()
		ids = append(ids, id)
		e.Add(id)
	}
	for _, id := range ids {
		if !e.Has(id) {
			t.Fatalf("%s added but not found", id)
		}
	}
	false1 := 0
	for i := 0; i < 100_000; i++ {
		if e.Has(randomID()) {
			false1++
		}
	}
	if rate := float64(false1) / 100_000; rate > 0.015 {
		t.Errorf("false matches at capacity: %.2f%%, stated at most about 1.2%%", rate*100)
	}
	now = now.Add(evictedSpan)
	e.Add(randomID()) // rotates: the first ids are now in the previous filter
	if !e.Has(ids[0]) {
		t.Error("an id evicted one span ago was forgotten")
	}
	now = now.Add(evictedSpan)
	e.Add(randomID())
	if e.Has(ids[0]) {
		t.Error("an id evicted two spans ago is still remembered")
	}
}
