package workset

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
	"github.com/gomaint/gomaint/maint/trim"
)

// id is a made-up entry id whose shard is shard.
func id(shard byte, n int) string {
	return fmt.Sprintf("%02x%062x", shard, n)
}

// putAction writes an action entry naming out, as go writes it.
func putAction(t *testing.T, cache, action, out string) {
	t.Helper()
	body := fmt.Sprintf("v1 %s %s %20d %20d\n", action, out, 3, time.Now().UnixNano())
	if len(body) != entrySize {
		t.Fatalf("entry of %d bytes", len(body))
	}
	write(t, filepath.Join(cache, action[:2], action+"-a"), body)
}

func putOutput(t *testing.T, cache, out string) {
	t.Helper()
	write(t, filepath.Join(cache, out[:2], out+"-d"), "out")
}

// oldCache makes a build cache of n action entries with their outputs,
// last used a day ago, and waits out youngSlack.
func oldCache(t *testing.T, n int) string {
	t.Helper()
	cache := testenv.GoCacheRoot(t, testenv.Dir(t))
	for i := range n {
		putAction(t, cache, id(byte(i), 1), id(byte(i), 2))
		putOutput(t, cache, id(byte(i), 2))
	}
	testenv.Backdate(t, cache, 24*time.Hour)
	time.Sleep(youngSlack + 100*time.Millisecond)
	return cache
}

// look is a lookup as go makes it: the action entry opened, read, closed.
func look(t *testing.T, cache, action string) {
	t.Helper()
	if _, err := os.ReadFile(filepath.Join(cache, action[:2], action+"-a")); err != nil {
		t.Fatal(err)
	}
}

func pruneRun(t *testing.T, cache string, during func()) (*Build, *Set, *trim.Result) {
	t.Helper()
	root, err := safefs.OpenRoot(cache)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	b, err := Watch(root)
	if err != nil {
		t.Fatal(err)
	}
	b.Measure()
	during()
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := b.Set()
	res, err := b.Prune(context.Background(), s, trim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return b, s, res
}

func TestPruneKeepsUsedWrittenAndNew(t *testing.T) {
	cache := oldCache(t, 8)
	shared := id(7, 2) // the output of entry 7, named by entry 6 too
	putAction(t, cache, id(6, 1), shared)
	testenv.Backdate(t, filepath.Join(cache, "06"), 24*time.Hour)
	time.Sleep(youngSlack + 100*time.Millisecond)

	b, s, res := pruneRun(t, cache, func() {
		look(t, cache, id(0, 1))
		look(t, cache, id(6, 1))
		putAction(t, cache, id(9, 1), id(9, 2)) // a miss: written by the run
		putOutput(t, cache, id(9, 2))
	})
	if b.Hits() != 2 || b.Counts.Created.Load() != 1 || s.Entries != 3 || s.Lost != 0 {
		t.Errorf("hits %d, created %d, set %+v", b.Hits(), b.Counts.Created.Load(), s)
	}
	keep := []string{id(0, 1) + "-a", id(0, 2) + "-d", id(6, 1) + "-a", shared + "-d", id(9, 1) + "-a", id(9, 2) + "-d"}
	for _, n := range keep {
		if !exists(filepath.Join(cache, n[:2], n)) {
			t.Errorf("%s was pruned", n)
		}
	}
	for _, i := range []byte{1, 2, 3, 4, 5} {
		for _, n := range []string{id(i, 1) + "-a", id(i, 2) + "-d"} {
			if exists(filepath.Join(cache, n[:2], n)) {
				t.Errorf("%s was kept", n)
			}
		}
	}
	// 1-5 whole, 6's own output and 7's action entry (its output is 6's).
	if res.Units != 12 || res.Failed != 0 {
		t.Errorf("pruned %d units, %d failed (%s)", res.Units, res.Failed, res.FirstError)
	}
}

// TestPruneAttackerSwapsShard: in a cache another user can write, that
// user replaces a shard by a link to a directory of old entries while the
// run goes on. Root's prune must not follow it.
func TestPruneAttackerSwapsShard(t *testing.T) {
	testenv.Root(t)
	cache := oldCache(t, 4)
	dir := filepath.Dir(cache)
	mallory := testenv.NewUser(t, "prune", dir)
	victim := filepath.Join(dir, "victim")
	putAction(t, victim, id(2, 1), id(2, 2)) // under victim/02/
	testenv.Backdate(t, victim, 48*time.Hour)
	testenv.Run(t, nil, "", "chown", "-R", fmt.Sprintf("%d:%d", mallory.UID, mallory.GID), cache)
	time.Sleep(youngSlack + 100*time.Millisecond)

	_, _, res := pruneRun(t, cache, func() {
		mallory.Sh(t, "rm -rf "+filepath.Join(cache, "02")+" && ln -s "+filepath.Join(victim, "02")+" "+filepath.Join(cache, "02"))
	})
	if !exists(filepath.Join(victim, "02", id(2, 1)+"-a")) {
		t.Fatal("the prune followed the attacker's link and removed the victim's entry")
	}
	if res.Units != 6 || res.Failed != 1 || !strings.Contains(res.FirstError, "02") {
		t.Errorf("pruned %d units, %d failed (%s); want the 6 of shards 00, 01, 03 and shard 02 refused", res.Units, res.Failed, res.FirstError)
	}
}
