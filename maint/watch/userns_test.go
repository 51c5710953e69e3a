package watch

import (
	"errors"
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
// raised, Resync watches them all.
func TestWatchLimitUserNamespace(t *testing.T) {
	if os.Getenv(inUserNS) == "1" {
		watchLimitChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchLimitUserNamespace$", "-test.v", "-test.count=1")
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
	if err != nil || !strings.Contains(string(out), "--- PASS: TestWatchLimitUserNamespace") {
		t.Fatalf("in a user namespace: %v\n%s", err, out)
	}
}

func watchLimitChild(t *testing.T) {
	const sysctl = "/proc/sys/user/max_inotify_watches" // this namespace's fs.inotify.max_user_watches
	setLimit := func(n string) {
		t.Helper()
		if err := os.WriteFile(sysctl, []byte(n), 0); err != nil {
			t.Fatalf("%s: %v", sysctl, err)
		}
	}
	dir := cache(t, allShards()...)
	setLimit("100")
	w, _ := open(t, dir, Options{}, false)
	var l *LimitError
	err := w.Incomplete()
	if !errors.As(err, &l) || l.Limit != "fs.inotify.max_user_watches" {
		t.Fatalf("Incomplete() = %v, want a LimitError naming fs.inotify.max_user_watches", err)
	}
	// The root takes one of the 100 watches.
	if w.Watches() != 99 || l.Shards != 256-99 || kernelWatches(t, w) != 100 {
		t.Errorf("%d shards watched (kernel: %d watches), %d reported left out; want 99, 100, %d", w.Watches(), kernelWatches(t, w), l.Shards, 256-99)
	}
	setLimit("1000")
	if err := w.Resync(); err != nil {
		t.Fatalf("Resync after raising the limit: %v", err)
	}
	if err := w.Incomplete(); err != nil || w.Watches() != 256 {
		t.Errorf("after Resync: Incomplete() = %v, %d shards watched; want nil, 256", err, w.Watches())
	}
}
