//go:build storm

// The growth storm is a proof of speed, so test.sh runs it on its own,
// without the race detector and other packages' tests competing for the
// two cores: go test -tags storm -run TestGrowthStorm ./maint/daemon
package daemon

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestGrowthStorm: a writer adds 2 GiB of build-cache entries as fast as
// it can to a cache limited to 1 GiB. The cache, on its own tmpfs so that
// statfs measures it exactly and cheaply, must never exceed the limit by
// more than 10%, must be back under it within 10 seconds of the storm's
// end, and no entry may be removed younger than min_age.
func TestGrowthStorm(t *testing.T) {
	const (
		limit  = 1 << 30
		storm  = 2 << 30
		minAge = 100 * time.Millisecond
	)
	cache := testenv.Mount(t, t.TempDir(), "tmpfs", "tmpfs", "size=3g,mode=0755")
	for i := 0; i < 256; i++ {
		os.Mkdir(filepath.Join(cache, fmt.Sprintf("%02x", i)), 0o755)
	}
	used := func() int64 {
		var s unix.Statfs_t
		unix.Statfs(cache, &s)
		return int64(s.Blocks-s.Bfree) * s.Bsize
	}
	removed := watchRemovals(t, cache)
	d := runDaemon(t, quiet(buildTarget(cache, limit, minAge)))
	defer func() {
		if t.Failed() {
			for _, e := range d.events.Snapshot() {
				t.Logf("event %s: %s", e.Type.Event, e.Message)
			}
		}
	}()

	// Sample usage while the storm lasts.
	var peak atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			peak.Store(max(peak.Load(), used()))
			select {
			case <-stopSampling:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()

	written := map[string]time.Time{}
	start := time.Now()
	var total int64
	buf := make([]byte, 1<<20)
	for i := 0; total < storm; i++ {
		size := 64<<10 + (i*37%16)*(60<<10) // 64 KiB .. 1 MiB
		id := make([]byte, 32)
		rand.Read(id)
		h := hex.EncodeToString(id)
		for _, e := range []struct {
			suffix string
			data   []byte
		}{{"-d", buf[:size]}, {"-a", buf[:175]}} { // go writes the output first
			name := filepath.Join(h[:2], h+e.suffix)
			written[name] = time.Now()
			if err := os.WriteFile(filepath.Join(cache, name), e.data, 0o644); err != nil {
				t.Fatal(err)
			}
			total += int64(len(e.data))
		}
	}
	stormEnd := time.Now()
	t.Logf("storm: %d MiB in %s", total>>20, stormEnd.Sub(start).Round(time.Millisecond))

	var under time.Duration
	for under = 0; used() > limit && under < 15*time.Second; under = time.Since(stormEnd) {
		time.Sleep(10 * time.Millisecond)
	}
	close(stopSampling)
	<-sampled
	t.Logf("peak %d MiB (limit %d MiB), under the limit %s after the storm, now %d MiB",
		peak.Load()>>20, limit>>20, under.Round(time.Millisecond), used()>>20)
	if p := peak.Load(); p > limit*11/10 {
		t.Errorf("peak usage %d MiB is more than 10%% over the %d MiB limit", p>>20, limit>>20)
	}
	if used() > limit {
		t.Errorf("still over the limit %s after the storm", under)
	}
	if under > 10*time.Second {
		t.Errorf("took %s after the storm to get under the limit", under)
	}

	trims, slowest := 0, 0
	for _, e := range d.events.Snapshot() {
		if e.Type.Event == "trim" {
			trims++
			ms, _ := strconv.Atoi(e.Fields["GOMAINT_DURATION_MSEC"])
			slowest = max(slowest, ms)
		}
	}
	t.Logf("%d trims, the slowest took %d ms", trims, slowest)
	n := 0
	for name, at := range removed() {
		n++
		if w, ok := written[name]; ok && at.Sub(w) < minAge {
			t.Errorf("%s removed %s after it was written, under min_age %s", name, at.Sub(w), minAge)
		}
	}
	if n == 0 {
		t.Errorf("nothing was removed")
	}
	t.Logf("%d entries removed", n)
}

// watchRemovals records when each entry is removed from the shards of
// cache, with an inotify watch of the test's own.
func watchRemovals(t *testing.T, cache string) func() map[string]time.Time {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	shards := map[int32]string{}
	for i := 0; i < 256; i++ {
		s := fmt.Sprintf("%02x", i)
		wd, err := unix.InotifyAddWatch(fd, filepath.Join(cache, s), unix.IN_DELETE)
		if err != nil {
			t.Fatal(err)
		}
		shards[int32(wd)] = s
	}
	var mu sync.Mutex
	at := map[string]time.Time{}
	f := os.NewFile(uintptr(fd), "inotify") // non-blocking: Close ends the reader
	go func() {
		buf := make([]byte, 1<<20)
		for {
			n, err := f.Read(buf)
			if err != nil || n <= 0 {
				return
			}
			now := time.Now()
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				for len(name) > 0 && name[len(name)-1] == 0 {
					name = name[:len(name)-1]
				}
				if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
					t.Errorf("the test's own watch overflowed")
				}
				if s, ok := shards[ev.Wd]; ok && len(name) > 0 {
					mu.Lock()
					at[filepath.Join(s, string(name))] = now
					mu.Unlock()
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}()
	t.Cleanup(func() { f.Close() })
	return func() map[string]time.Time {
		time.Sleep(100 * time.Millisecond) // the last events
		mu.Lock()
		defer mu.Unlock()
		return at
	}
}
