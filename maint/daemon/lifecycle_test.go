package daemon

import (
	"bufio"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}

// The lifecycle tests fill caches with what real go builds wrote
// (testenv.RealCaches, about 40 MiB) against a limit well below that.
const lifeLimit = 8 << 20

func diskUsage(t *testing.T, dir string) int64 {
	t.Helper()
	b, _, _, _, err := measure(dir)
	if err != nil {
		return -1
	}
	return b
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	testenv.Run(t, nil, "", "cp", "-a", from, to)
}

// heldUnder waits until the cache is under the limit.
func heldUnder(t *testing.T, d *inProcess, dir string, limit int64, within time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := diskUsage(t, dir)
		if n >= 0 && n <= limit {
			t.Logf("%s: %d bytes, under %d after %s", what, n, limit, within-time.Until(deadline).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			for _, e := range d.events.Snapshot() {
				t.Logf("event %s: %s", e.Type.Event, e.Message)
			}
			t.Fatalf("%s: %s holds %d bytes %s later, over the limit %d", what, dir, n, within, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// watchEvent waits for a "watch" event of state whose reason contains
// reason, after the n-th event.
func watchEvent(t *testing.T, d *inProcess, from int, state, reason string, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		es := d.events.Snapshot()
		for i := from; i < len(es); i++ {
			e := es[i]
			if e.Type.Event == "watch" && e.Fields["GOMAINT_WATCH_STATE"] == state && strings.Contains(e.Fields["GOMAINT_REASON"], reason) {
				return i + 1
			}
		}
		if time.Now().After(deadline) {
			for _, e := range es[from:] {
				t.Logf("event %s: %s %v", e.Type.Event, e.Message, e.Fields["GOMAINT_WATCH_STATE"])
			}
			t.Fatalf("no watch event %q (%q) within %s", state, reason, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inotifyWatches counts this process's inotify watches (the daemon's:
// the test has none of its own) and open fds.
func inotifyWatches(t *testing.T) (watches, fds int) {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); l != "anon_inode:inotify" {
			continue
		}
		f, err := os.Open("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		for sc := bufio.NewScanner(f); sc.Scan(); {
			if strings.HasPrefix(sc.Text(), "inotify wd:") {
				watches++
			}
		}
		f.Close()
	}
	return watches, len(es)
}

func lifeTarget(cache string) config.Target { return buildTarget(cache, lifeLimit, time.Millisecond) }

// TestLifecycleCacheCreatedAfterStart (issue 12 item 1): a build cache
// that does not exist when the daemon starts is watched as soon as it
// appears, and its limit holds within seconds.
func TestLifecycleCacheCreatedAfterStart(t *testing.T) {
	real := testenv.RealCaches(t)
	cache := filepath.Join(testenv.Dir(t), "go-build")
	d := runDaemon(t, quiet(lifeTarget(cache)))
	d.await(t, "last audit", 60*time.Second)
	n := watchEvent(t, d, 0, "absent", "", 5*time.Second)
	copyTree(t, filepath.Join(real, "gocache"), cache)
	watchEvent(t, d, n, "watching", "", 10*time.Second)
	heldUnder(t, d, cache, lifeLimit, 60*time.Second, "a cache made after start")
}

// TestLifecycleRootReplaced (issue 12 item 2): a watched cache removed,
// renamed or replaced by a symbolic link is no longer watched; once the
// path holds a cache again, that one is watched and held to its limit.
func TestLifecycleRootReplaced(t *testing.T) {
	real := filepath.Join(testenv.RealCaches(t), "gocache")
	dir := testenv.Dir(t)
	cache := filepath.Join(dir, "go-build")
	copyTree(t, real, cache)
	d := runDaemon(t, quiet(lifeTarget(cache)))
	n := watchEvent(t, d, 0, "watching", "", 10*time.Second)
	heldUnder(t, d, cache, lifeLimit, 30*time.Second, "at start")

	// rm -rf, then a cache again.
	testenv.RemoveAll(t, cache)
	n = watchEvent(t, d, n, "absent", "", 10*time.Second)
	copyTree(t, real, cache)
	n = watchEvent(t, d, n, "watching", "", 10*time.Second)
	heldUnder(t, d, cache, lifeLimit, 60*time.Second, "after rm -rf and a new cache")

	// Renamed away; the old directory is no longer the cache.
	if err := os.Rename(cache, filepath.Join(dir, "go-build.old")); err != nil {
		t.Fatal(err)
	}
	n = watchEvent(t, d, n, "absent", "", 10*time.Second)
	copyTree(t, real, cache)
	n = watchEvent(t, d, n, "watching", "", 10*time.Second)
	heldUnder(t, d, cache, lifeLimit, 60*time.Second, "after a rename and a new cache")

	// Replaced by a symbolic link: not followed, so what it points to is
	// not trimmed, and the target waits for a real directory.
	realDir := filepath.Join(dir, "go-build.real")
	if err := os.Rename(cache, realDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(realDir, cache); err != nil {
		t.Fatal(err)
	}
	n = watchEvent(t, d, n, "absent", "", 10*time.Second)
	testenv.Run(t, nil, "", "cp", "-a", real+"/.", realDir)
	time.Sleep(5 * time.Second)
	if b := diskUsage(t, realDir); b <= lifeLimit {
		t.Errorf("the directory behind a symbolic link was trimmed to %d bytes", b)
	}
	for _, e := range d.events.Snapshot()[n:] {
		if e.Type.Event == "watch" && e.Fields["GOMAINT_WATCH_STATE"] == "watching" {
			t.Errorf("a symbolic link was watched: %s", e.Message)
		}
	}
	if err := os.Remove(cache); err != nil {
		t.Fatal(err)
	}
	copyTree(t, real, cache)
	n = watchEvent(t, d, n, "watching", "", 10*time.Second)
	heldUnder(t, d, cache, lifeLimit, 60*time.Second, "after the link made way for a cache")
}

// TestLifecycleGoCleanWhileBuilding: the real `go clean -cache` removes
// every shard while a real `go build -a` writes; afterwards every shard go
// made again is watched (one watch each, nothing left of the old ones),
// and the limit holds.
func TestLifecycleGoCleanWhileBuilding(t *testing.T) {
	src := testenv.RealCaches(t)
	cache := filepath.Join(testenv.Dir(t), "go-build")
	copyTree(t, filepath.Join(src, "gocache"), cache)
	d := runDaemon(t, quiet(lifeTarget(cache)))
	watchEvent(t, d, 0, "watching", "", 10*time.Second)
	heldUnder(t, d, cache, lifeLimit, 30*time.Second, "at start")

	mod := testenv.Module(t, testenv.Dir(t))
	env := append(testenv.GoEnv(src), "GOCACHE="+cache, "GOPROXY=off")
	goCmd := func(args ...string) *exec.Cmd {
		cmd := exec.Command("go", args...)
		cmd.Env, cmd.Dir = env, mod
		return cmd
	}
	build := goCmd("build", "-a", "-o", os.DevNull, ".")
	out := &strings.Builder{}
	build.Stdout, build.Stderr = out, out
	if err := build.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	for i := 0; i < 2; i++ {
		if o, err := goCmd("clean", "-cache").CombinedOutput(); err != nil {
			t.Fatalf("go clean -cache: %v\n%s", err, o)
		}
		time.Sleep(time.Second)
	}
	if err := build.Wait(); err != nil {
		t.Logf("go build -a, its cache removed under it: %v\n%s", err, out)
	}
	if o, err := goCmd("build", "-o", os.DevNull, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build after go clean -cache: %v\n%s", err, o)
	}
	heldUnder(t, d, cache, lifeLimit, 60*time.Second, "after go clean -cache and go build")
	shards := 0
	es, _ := os.ReadDir(cache)
	for _, e := range es {
		if e.IsDir() && len(e.Name()) == 2 {
			shards++
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for w, _ := inotifyWatches(t); w != shards+1; w, _ = inotifyWatches(t) {
		if time.Now().After(deadline) {
			t.Fatalf("%d inotify watches for %d shards and the root", w, shards)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLifecycleShardRenameLoop (issue 13 item 6): a member of a shared
// cache's group renames a shard away and makes it again, 500 times. The
// daemon's fds and watches stay where they were.
func TestLifecycleShardRenameLoop(t *testing.T) {
	testenv.Root(t)
	testenv.Command(t, "useradd")
	const group, member = "gmt-lw-cache", "gmt-lw-mallory"
	if _, err := user.LookupGroup(group); err != nil {
		testenv.Run(t, nil, "", "groupadd", "--system", group)
	}
	if _, err := user.Lookup(member); err != nil {
		testenv.Run(t, nil, "", "useradd", "--no-create-home", "--groups", group, member)
	}
	grp, _ := user.LookupGroup(group)
	gid, _ := strconv.Atoi(grp.Gid)
	u, _ := user.Lookup(member)
	uid, _ := strconv.Atoi(u.Uid)
	ugid, _ := strconv.Atoi(u.Gid)

	cache := filepath.Join(testenv.Dir(t), "build")
	testenv.BuildCache(t, cache, 16, 1000, 3*time.Hour)
	filepath.Walk(cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			os.Chown(p, 0, gid)
			os.Chmod(p, 0o2775)
		}
		return nil
	})
	tgt := buildTarget(cache, 1<<30, time.Hour)
	tgt.Mode, tgt.Group = "shared", group
	d := runDaemon(t, quiet(tgt))
	d.await(t, "last audit", 60*time.Second)
	time.Sleep(500 * time.Millisecond)
	watches0, fds0 := inotifyWatches(t)
	if watches0 != 257 {
		t.Fatalf("%d inotify watches at start, want 257", watches0)
	}

	loop := exec.Command("sh", "-c", `cd "$1" && mkdir x && i=0 && while [ $i -lt 500 ]; do mv ab x/ab.$i && mkdir ab && mkdir -p x$i || exit 1; i=$((i+1)); done`, "sh", cache)
	loop.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(ugid), Groups: []uint32{uint32(gid)}}}
	if out, err := loop.CombinedOutput(); err != nil {
		t.Fatalf("the rename loop as %s: %v\n%s", member, err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		w, fds := inotifyWatches(t)
		if w <= 257 && fds <= fds0+4 {
			t.Logf("after 500 renames: %d watches, %d fds (at start %d, %d)", w, fds, watches0, fds0)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 500 renames: %d watches (at most 257), %d fds (at start %d)", w, fds, fds0)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := Ask(t.Context(), d.socket, Request{Command: "status"}); err != nil {
		t.Errorf("the control socket after the loop: %v", err)
	}
}

// TestLifecycleUnmounted: a cache on its own file system, unmounted lazily
// under the daemon (which holds fds in it, so inotify says nothing): the
// path now names the directory below, which is watched instead.
func TestLifecycleUnmounted(t *testing.T) {
	testenv.Root(t)
	cache := filepath.Join(testenv.Dir(t), "go-build")
	testenv.BuildCache(t, cache, 1, 100, 0) // what lies under the mount
	if err := unix.Mount("tmpfs", cache, "tmpfs", 0, "size=64m,mode=0755"); err != nil {
		t.Fatal(err)
	}
	mounted := true
	t.Cleanup(func() {
		if mounted {
			unix.Unmount(cache, unix.MNT_DETACH)
		}
	})
	testenv.BuildCache(t, cache, 4, 1000, 0)
	d := runDaemon(t, quiet(lifeTarget(cache)))
	n := watchEvent(t, d, 0, "watching", "", 10*time.Second)
	if err := unix.Unmount(cache, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	mounted = false
	n = watchEvent(t, d, n, "absent", "no longer names the watched directory", 10*time.Second)
	watchEvent(t, d, n, "watching", "", 10*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for w, _ := inotifyWatches(t); w != 257; w, _ = inotifyWatches(t) {
		if time.Now().After(deadline) {
			t.Fatalf("%d inotify watches after the unmount, want 257 (the directory below)", w)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
