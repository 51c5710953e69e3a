package watch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// inUserNS marks the copy of the test binary that runs in a new user
// namespace, whose inotify limit it may lower without touching the host's.
const inUserNS = "GOMAINT_WATCH_TEST_USERNS"

// TestWatchLimitUserNamespace: with fs.inotify.max_user_watches used up
// (here a limit of 100 in a user namespace of our own, which the kernel
// enforces as it enforces the host's), Open watches what it can and
// Incomplete names the limit and the shards left out; once the limit is
// raised, Resync watches them all. Both with shard fds and without, when
// shards are watched by name (resyncByNameLocked).
func TestWatchLimitUserNamespace(t *testing.T) {
	if userNamespace(t) {
		watchLimitChild(t)
	}
}

// userNamespace runs the test again in a new user namespace of its own and
// reports false; in that copy it reports true, and the test does its work.
func userNamespace(t *testing.T) bool {
	t.Helper()
	if os.Getenv(inUserNS) == "1" {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), inUserNS+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	if err != nil && errors.Is(err, syscall.EPERM) {
		testenv.Need(t, false, "user namespaces (kernel.unprivileged_userns_clone, or run as root)")
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("in a user namespace: %v\n%s", err, out)
	}
	return false
}

// setWatchLimit sets fs.inotify.max_user_watches of the user namespace
// the test runs in (userNamespace).
func setWatchLimit(t *testing.T, n string) {
	t.Helper()
	const sysctl = "/proc/sys/user/max_inotify_watches" // this namespace's fs.inotify.max_user_watches
	if err := os.WriteFile(sysctl, []byte(n), 0); err != nil {
		t.Fatalf("%s: %v", sysctl, err)
	}
}

func watchLimitChild(t *testing.T) {
	for _, opt := range []Options{{}, {NoShardFDs: true, Counts: &Counts{}}} {
		// A subtest each: the first watch's are freed before the second.
		t.Run(fmt.Sprint("NoShardFDs=", opt.NoShardFDs), func(t *testing.T) { watchLimit(t, opt) })
	}
}

func watchLimit(t *testing.T, opt Options) {
	dir := cache(t, allShards()...)
	setWatchLimit(t, "100")
	w, _ := open(t, dir, opt, false)
	w.mu.Lock()
	byName := w.byName
	w.mu.Unlock()
	if byName != opt.NoShardFDs {
		t.Errorf("NoShardFDs %v: shards watched by name: %v", opt.NoShardFDs, byName)
	}
	var l *LimitError
	err := w.Incomplete()
	if !errors.As(err, &l) || l.Limit != "fs.inotify.max_user_watches" {
		t.Fatalf("Incomplete() = %v, want a LimitError naming fs.inotify.max_user_watches", err)
	}
	// The root takes one of the 100 watches.
	if w.Watches() != 99 || l.Shards != 256-99 || kernelWatches(t, w.file) != 100 {
		t.Errorf("%d shards watched (kernel: %d watches), %d reported left out; want 99, 100, %d", w.Watches(), kernelWatches(t, w.file), l.Shards, 256-99)
	}
	setWatchLimit(t, "1000")
	if err := w.Resync(); err != nil {
		t.Fatalf("Resync after raising the limit: %v", err)
	}
	if err := w.Incomplete(); err != nil || w.Watches() != 256 {
		t.Errorf("after Resync: Incomplete() = %v, %d shards watched; want nil, 256", err, w.Watches())
	}
}
