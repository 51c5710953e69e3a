package clean

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestLockIsTheCache: the clean lock belongs to the cache, not to the
// target's name. While a clean of one target runs (inside its Progress
// call, lock held), a clean of another name for the same cache, by the same
// path or through a bind mount, is refused as busy; a clean of the same
// name on another cache runs.
func TestLockIsTheCache(t *testing.T) {
	dir := testenv.Dir(t)
	cache, other := filepath.Join(dir, "build"), filepath.Join(dir, "other")
	testenv.BuildCache(t, cache, 2, 100, 0)
	testenv.BuildCache(t, other, 2, 100, 0)
	locks := filepath.Join(dir, "locks")
	named := func(name, path string) *config.Config {
		return cfgFor(config.Build, path, func(t *config.Target) { t.Name = name })
	}
	// during runs second while a clean of first holds its lock.
	during := func(first, second *config.Config) Outcome {
		var got Outcome
		var ran atomic.Bool
		Run(context.Background(), Request{Config: first, Sink: journal.Discard{}, LockDir: locks, NoWait: true,
			Progress: func(string, *atomic.Int64) func() {
				out := Run(context.Background(), Request{Config: second, Sink: journal.Discard{}, LockDir: locks, NoWait: true})
				got = out[0]
				ran.Store(true)
				return func() {}
			}})
		if !ran.Load() {
			t.Fatal("the first clean never started its trim")
		}
		return got
	}
	busy := func(o Outcome) bool {
		return o.Result == nil && strings.Contains(o.Error, "is being worked on by another gomaint")
	}

	if o := during(named("alpha", cache), named("beta", cache)); !busy(o) {
		t.Errorf("two names for one path cleaned at once: %+v", o)
	}
	if o := during(named("build", cache), named("build", other)); o.Error != "" || o.Result == nil {
		t.Errorf("one name on two caches excluded each other: %+v", o)
	}
	testenv.Root(t)
	mnt := testenv.Mount(t, dir, "", cache, "")
	if o := during(named("alpha", cache), named("beta", mnt)); !busy(o) {
		t.Errorf("a bind mount of the cache cleaned at once with it: %+v", o)
	}
}
