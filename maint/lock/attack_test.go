package lock

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestOthersCannotHoldLocks: flock needs only read access, so a lock
// file anyone may open lets anyone block every clean and fix. A real
// unprivileged user tries to hold the lock root just released; the next
// Acquire must not find it busy.
func TestOthersCannotHoldLocks(t *testing.T) {
	testenv.Command(t, "flock")
	mal := testenv.NewAccount(t, "gmt-sd-mal")
	dir := filepath.Join(testenv.Dir(t), "gomaint", "locks")
	root := cacheRoot(t)
	release, err := Acquire(dir, root, "build", 0)
	if err != nil {
		t.Fatal(err)
	}
	release()
	names, _ := filepath.Glob(filepath.Join(dir, "*.lock"))
	if len(names) != 1 {
		t.Fatalf("lock files after one Acquire: %v", names)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("lock directory %s: %v, mode %v; want no access for others", dir, err, fi.Mode())
	}
	if fi, err := os.Stat(filepath.Dir(dir)); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("runtime directory %s, made for the lock directory: %v, mode %v; want 0755 (the socket's)", filepath.Dir(dir), err, fi.Mode())
	}
	if fi, err := os.Stat(names[0]); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("lock file %s: %v, mode %v; want no access for others", names[0], err, fi.Mode())
	}

	hold := mal.Cmd(nil, "flock", "--nonblock", "--shared", names[0], "sh", "-c", "echo held; exec sleep 30")
	out, _ := hold.StdoutPipe()
	hold.Stderr = os.Stderr
	hold.SysProcAttr.Setpgid = true
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-hold.Process.Pid, syscall.SIGKILL); hold.Wait() }()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line == "held\n" {
		t.Errorf("%s holds a flock on %s", mal.Name, names[0])
	}
	release, err = Acquire(dir, root, "build", 0)
	if err != nil {
		t.Fatalf("after another user tried to hold the lock: %v", err)
	}
	release()
}

// TestFallbackNotInTmp: without XDG_RUNTIME_DIR the locks must not live
// under a name in /tmp that another user can take first. A real user's
// Acquire still works after another user made /tmp/gomaint-UID.
func TestFallbackNotInTmp(t *testing.T) {
	mal := testenv.NewAccount(t, "gmt-sd-mal")
	vic := testenv.NewAccount(t, "gmt-sd-vic")
	squat := "/tmp/gomaint-" + strconv.Itoa(vic.UID)
	os.RemoveAll(squat)
	if out, err := mal.Cmd(nil, "mkdir", "-m", "0755", squat).CombinedOutput(); err != nil {
		t.Fatalf("mkdir %s as %s: %v %s", squat, mal.Name, err, out)
	}
	t.Cleanup(func() { os.RemoveAll(squat) })

	out, err := vic.Cmd([]string{"GOMAINT_LOCK_HELPER=acquire"}, testenv.Self(t), "-test.run=^TestHelperAcquire$").CombinedOutput()
	if err != nil {
		t.Fatalf("Acquire as %s without XDG_RUNTIME_DIR: %v\n%s", vic.Name, err, out)
	}
	dir, _, _ := strings.Cut(string(out), "\n")
	if !strings.HasPrefix(dir, vic.Home+"/") {
		t.Errorf("lock directory %q; want one under the user's home %s", dir, vic.Home)
	}
}

// TestHelperAcquire is TestFallbackNotInTmp's other side, run as the user.
func TestHelperAcquire(t *testing.T) {
	if os.Getenv("GOMAINT_LOCK_HELPER") != "acquire" {
		return
	}
	dir := paths.LockDir(false, os.Getenv)
	release, err := Acquire(dir, cacheRoot(t), "build", time.Second)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	release()
	fmt.Println(dir)
	os.Exit(0)
}
