package watch

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
)

// cache makes a build cache root with the shards named.
func cache(t *testing.T, shards ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "go-build")
	for _, s := range append([]string{""}, shards...) {
		if err := os.MkdirAll(filepath.Join(dir, s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func allShards() []string {
	var s []string
	for i := 0; i < 256; i++ {
		s = append(s, fmt.Sprintf("%02x", i))
	}
	return s
}

// open opens a watch on dir; run also starts Run, whose result comes on
// the channel returned.
func open(t *testing.T, dir string, opt Options, run bool) (*Build, <-chan error) {
	t.Helper()
	root, err := safefs.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Open(root, opt)
	if err != nil {
		root.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	returned := make(chan struct{})
	if run {
		go func() {
			defer close(returned)
			done <- w.Run()
		}()
	}
	t.Cleanup(func() {
		w.Close()
		if run {
			select {
			case <-returned:
			case <-time.After(5 * time.Second):
				t.Errorf("Run did not return after Close")
			}
		}
		root.Close()
	})
	return w, done
}

// kernelWatches counts the watches the kernel holds for the inotify
// instance in, from /proc/self/fdinfo.
func kernelWatches(t *testing.T, in *os.File) int { t.Helper(); return len(watchedInodes(t, in)) }

// watchedInodes lists the inode of every directory the inotify instance
// in watches, from /proc/self/fdinfo ("inotify wd:1 ino:1a2b sdev:...").
func watchedInodes(t *testing.T, in *os.File) []uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/fdinfo/" + strconv.Itoa(int(in.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var inos []uint64
	for sc := bufio.NewScanner(f); sc.Scan(); {
		for _, field := range strings.Fields(sc.Text()) {
			if hex, ok := strings.CutPrefix(field, "ino:"); ok && strings.HasPrefix(sc.Text(), "inotify wd:") {
				ino, err := strconv.ParseUint(hex, 16, 64)
				if err != nil {
					t.Fatalf("fdinfo: %q: %v", sc.Text(), err)
				}
				inos = append(inos, ino)
			}
		}
	}
	return inos
}

func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func eventually(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
	}
}

// TestShardRenameLoopBounded (issue 13 item 6): `mv ab x/ab.N; mkdir ab`
// in a loop must not add a watch and an fd per round: a shard moved away
// loses its watch, and only shard names are watched.
func TestShardRenameLoopBounded(t *testing.T) {
	dir := cache(t, allShards()...)
	if err := os.Mkdir(filepath.Join(dir, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := openFDs(t)
	w, _ := open(t, dir, Options{}, true)
	armed := openFDs(t)
	if k := kernelWatches(t, w.file); k != 257 {
		t.Fatalf("%d kernel watches after Open, want 257 (root and 256 shards)", k)
	}
	const rounds = 500
	for i := 0; i < rounds; i++ {
		if err := os.Rename(filepath.Join(dir, "ab"), filepath.Join(dir, "x", "ab."+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(dir, "ab"), 0o755); err != nil {
			t.Fatal(err)
		}
		// Names that are not shards get nothing.
		os.Mkdir(filepath.Join(dir, "x"+strconv.Itoa(i)), 0o755)
	}
	for _, n := range []string{"AB", "abc", "zz", "a"} {
		os.Mkdir(filepath.Join(dir, n), 0o755)
	}
	time.Sleep(200 * time.Millisecond)
	eventually(t, 5*time.Second, "the watch settles on 257 kernel watches", func() bool { return kernelWatches(t, w.file) == 257 })
	if n := openFDs(t); n > armed+2 {
		t.Errorf("%d fds open after %d renames, %d before them (%d before Open): a moved shard keeps its fd", n, rounds, armed, before)
	}
	// The new ab is the one watched: an entry written there counts.
	b0, _ := w.Estimate()
	name := filepath.Join(dir, "ab", strings.Repeat("ab", 32)+"-d")
	if err := os.WriteFile(name, make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a write into the new ab counts", func() bool { b, _ := w.Estimate(); return b >= b0+64<<10 })
	// A write into a moved-away shard does not.
	b1, _ := w.Estimate()
	os.WriteFile(filepath.Join(dir, "x", "ab.0", strings.Repeat("cd", 32)+"-d"), make([]byte, 64<<10), 0o644)
	time.Sleep(300 * time.Millisecond)
	if b, _ := w.Estimate(); b != b1 {
		t.Errorf("a write into a shard moved out of the cache was counted: %d -> %d", b1, b)
	}
}

// TestShardReplacedCounts: a shard removed and made again (go clean
// -cache, then a build) is watched again, and what was written into it
// before its watch existed is counted.
func TestShardReplacedCounts(t *testing.T) {
	dir := cache(t, allShards()...)
	w, _ := open(t, dir, Options{}, true)
	for _, s := range allShards() {
		if err := os.Remove(filepath.Join(dir, s)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "every shard watch dropped", func() bool { return w.Watches() == 0 && kernelWatches(t, w.file) == 1 })
	// mkdir and the write before the watch can be made: rename a full
	// shard in, as one step.
	tmp := filepath.Join(dir, "tmp-ab")
	os.Mkdir(tmp, 0o755)
	os.WriteFile(filepath.Join(tmp, strings.Repeat("ab", 32)+"-d"), make([]byte, 1<<20), 0o644)
	if err := os.Rename(tmp, filepath.Join(dir, "ab")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the shard moved in is watched and counted", func() bool {
		b, _ := w.Estimate()
		return w.Watches() == 1 && b >= 1<<20
	})
}

// TestOverflowResync: after lost events the watch looks at every shard
// name again, so a shard created in the gap gets its watch.
func TestOverflowResync(t *testing.T) {
	shards := allShards()
	dir := cache(t, shards[:255]...)
	overflows := 0
	w, _ := open(t, dir, Options{Overflow: func() { overflows++ }}, false)
	if n := w.Watches(); n != 255 {
		t.Fatalf("%d shards watched, want 255", n)
	}
	os.Mkdir(filepath.Join(dir, "ff"), 0o755) // queued, never read: as if lost
	ev := make([]byte, unix.SizeofInotifyEvent)
	(*unix.InotifyEvent)(unsafe.Pointer(&ev[0])).Wd = -1
	(*unix.InotifyEvent)(unsafe.Pointer(&ev[0])).Mask = unix.IN_Q_OVERFLOW
	if err := w.handle(ev); err != nil {
		t.Fatal(err)
	}
	if overflows != 1 || w.Watches() != 256 {
		t.Errorf("after an overflow: %d Overflow calls, %d shards watched; want 1 and 256", overflows, w.Watches())
	}
}

// TestRootGone: Run ends with ErrRootGone when the root is renamed, or
// replaced by a symbolic link (a rename away, then the link). A removal
// the kernel reports only once the watch's own fd of the root is closed:
// the daemon finds that by looking at the path (TestLifecycleRootReplaced).
func TestRootGone(t *testing.T) {
	for _, c := range []struct {
		name string
		do   func(dir string) error
	}{
		{"renamed", func(dir string) error { return os.Rename(dir, dir+".old") }},
		{"replaced by a symlink", func(dir string) error {
			if err := os.Rename(dir, dir+".real"); err != nil {
				return err
			}
			return os.Symlink(dir+".real", dir)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := cache(t, "00", "01")
			_, done := open(t, dir, Options{}, true)
			if err := c.do(dir); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !errors.Is(err, ErrRootGone) {
					t.Errorf("Run returned %v, want ErrRootGone", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run goes on after the root went")
			}
		})
	}
}

// TestLimitErrorNames: the errors of exhausted limits name the sysctl.
func TestLimitErrorNames(t *testing.T) {
	for _, c := range []struct {
		op   string
		err  error
		want string
	}{
		{"inotify_add_watch", unix.ENOSPC, "fs.inotify.max_user_watches"},
		{"inotify_init1", unix.EMFILE, "fs.inotify.max_user_instances"},
		{"open", unix.EMFILE, "LimitNOFILE"},
	} {
		var l *LimitError
		if err := limitError(c.op, fmt.Errorf("wrapped: %w", c.err)); !errors.As(err, &l) || !strings.Contains(l.Limit+l.Raise, c.want) {
			t.Errorf("%s %v: %v, want a LimitError naming %s", c.op, c.err, err, c.want)
		}
	}
	if err := limitError("open", unix.ENOENT); errors.As(err, new(*LimitError)) {
		t.Errorf("ENOENT is no limit: %v", err)
	}
}

// TestOpenFileBudget: under a low open-file limit the watch takes only
// what leaves the daemon room to scan and trim, and says it is incomplete.
func TestOpenFileBudget(t *testing.T) {
	dir := cache(t, allShards()...)
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	low := old
	low.Cur = 200
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	w, _ := open(t, dir, Options{}, false)
	var l *LimitError
	if err := w.Incomplete(); !errors.As(err, &l) || !strings.Contains(l.Raise, "LimitNOFILE") || l.Shards != 256-w.Watches() {
		t.Errorf("Incomplete() = %v with %d shards watched, want a LimitError naming LimitNOFILE", err, w.Watches())
	}
	if n := w.Watches(); n > 200-2*fdReserve {
		t.Errorf("%d shard fds under a limit of 200 open files", n)
	}
}

// TestNoShardFDs: with NoShardFDs the watch holds one fd (its inotify
// instance) for 257 watches, still measures what is written into a shard,
// and keeps following a shard made again.
func TestNoShardFDs(t *testing.T) {
	dir := cache(t, allShards()...)
	before := openFDs(t)
	w, _ := open(t, dir, Options{NoShardFDs: true, Counts: &Counts{}}, true)
	if n, k := openFDs(t)-before, kernelWatches(t, w.file); n != 2 || k != 257 {
		// The root's fd and the instance's.
		t.Fatalf("%d more fds and %d kernel watches after Open; want 2 and 257", n, k)
	}
	name := filepath.Join(dir, "ab", strings.Repeat("ab", 32)+"-d")
	if err := os.WriteFile(name, make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a write into ab counts", func() bool { b, _ := w.Estimate(); return b >= 64<<10 })
	if err := os.RemoveAll(filepath.Join(dir, "cd")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "cd"), 0o755); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "cd is watched again", func() bool { return w.Watches() == 256 && kernelWatches(t, w.file) == 257 })
	b0, _ := w.Estimate()
	os.WriteFile(filepath.Join(dir, "cd", strings.Repeat("cd", 32)+"-d"), make([]byte, 64<<10), 0o644)
	eventually(t, 5*time.Second, "a write into the new cd counts", func() bool { b, _ := w.Estimate(); return b >= b0+64<<10 })
	if n := openFDs(t) - before; n != 2 {
		t.Errorf("%d more fds than before Open after the writes; want 2", n)
	}
}

// TestNoShardFDsByName: without shard fds, the shards are watched by name
// from a thread of its own (resyncByNameLocked), never through a link to a
// directory elsewhere, a file or a mount in the cache; and no thread is
// left with the cache for its working directory (the main thread, when it
// was the one, is parked for good rather than ended).
func TestNoShardFDsByName(t *testing.T) {
	testenv.Root(t) // for the bind mount
	dir := cache(t, "00", "03", "04")
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(dir, "01")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "02"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(elsewhere, filepath.Join(dir, "04"), "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(filepath.Join(dir, "04"), unix.MNT_DETACH) })
	w, _ := open(t, dir, Options{NoShardFDs: true, Counts: &Counts{}}, true)
	w.mu.Lock()
	byName := w.byName
	w.mu.Unlock()
	if !byName {
		t.Fatal("the shards were not watched by name")
	}
	var want []uint64
	for _, p := range []string{dir, filepath.Join(dir, "00"), filepath.Join(dir, "03")} {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		want = append(want, st.Ino)
	}
	got := watchedInodes(t, w.file)
	slices.Sort(got)
	slices.Sort(want)
	if w.Watches() != 2 || !slices.Equal(got, want) {
		t.Errorf("%d shards watched, inodes %v; want 00 and 03 with the root, %v", w.Watches(), got, want)
	}
	tasks, err := filepath.Glob("/proc/self/task/*/cwd")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if d, err := os.Readlink(task); err == nil && (d == dir || strings.HasPrefix(d, dir+"/")) {
			t.Errorf("%s is %s: a thread kept the cache for its working directory", task, d)
		}
	}
	os.WriteFile(filepath.Join(elsewhere, strings.Repeat("ab", 32)+"-d"), make([]byte, 64<<10), 0o644)
	os.WriteFile(filepath.Join(dir, "00", strings.Repeat("00", 32)+"-d"), make([]byte, 8<<10), 0o644)
	eventually(t, 5*time.Second, "a write into 00 counts", func() bool { b, _ := w.Estimate(); return b > 0 })
	if b, _ := w.Estimate(); b >= 64<<10 {
		t.Errorf("estimate %d: a write through the link or into the mount counted", b)
	}
}
