package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/testenv"
)

// crashCache is a module cache in go's layout with old versions (a clean
// removes them) and young ones (it keeps them), whose files are known.
type crashCache struct {
	dir        string
	old, young int
}

const crashFiles = 12 // per version: go.mod, 8 sources, 3 in sub/

func (c *crashCache) mod(i int) string { return fmt.Sprintf("example.com/m%03d", i) }

func (c *crashCache) content(i, j int) []byte {
	return []byte(fmt.Sprintf("package m%03d // file %d\n%s", i, j, strings.Repeat("x", 200)))
}

// make writes the cache; writable leaves the trees as -modcacherw does
// (files 0644, dirs 0755), else they are read-only as go makes them.
func (c *crashCache) make(t *testing.T, writable bool) {
	t.Helper()
	fileMode, dirMode := os.FileMode(0o444), os.FileMode(0o555)
	if writable {
		fileMode, dirMode = 0o644, 0o755
	}
	for i := range c.old + c.young {
		age := 40 * 24 * time.Hour
		if i >= c.old {
			age = 3 * time.Hour
		}
		when := time.Now().Add(-age)
		dl := filepath.Join(c.dir, "cache/download", c.mod(i), "@v")
		if err := os.MkdirAll(dl, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, ext := range []string{".info", ".mod", ".zip", ".ziphash"} {
			p := filepath.Join(dl, "v1.0.0"+ext)
			if err := os.WriteFile(p, c.content(i, -1), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, when, when)
		}
		v := filepath.Join(c.dir, c.mod(i)+"@v1.0.0")
		os.MkdirAll(filepath.Join(v, "sub"), 0o755)
		for j := range crashFiles {
			p := filepath.Join(v, c.file(j))
			if err := os.WriteFile(p, c.content(i, j), fileMode); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, when, when)
		}
		os.Chmod(filepath.Join(v, "sub"), dirMode)
		os.Chmod(v, dirMode)
	}
}

func (c *crashCache) file(j int) string {
	switch {
	case j == 0:
		return "go.mod"
	case j > 8:
		return fmt.Sprintf("sub/s%d.go", j)
	}
	return fmt.Sprintf("f%d.go", j)
}

func (c *crashCache) exists(rel string) bool {
	_, err := os.Lstat(filepath.Join(c.dir, rel))
	return err == nil
}

// check verifies what must hold after any kill: a version go would take as
// extracted (directory there, no .partial) is whole, and .info and .mod
// stay. It returns the versions left interrupted (with a .partial).
func (c *crashCache) check(t *testing.T) (interrupted int) {
	t.Helper()
	for i := range c.old + c.young {
		dl := "cache/download/" + c.mod(i) + "/@v/v1.0.0"
		if !c.exists(dl+".info") || !c.exists(dl+".mod") {
			t.Errorf("%s: .info or .mod removed", c.mod(i))
		}
		if c.exists(dl + ".partial") {
			interrupted++
			continue
		}
		v := c.mod(i) + "@v1.0.0"
		if !c.exists(v) {
			continue
		}
		for j := range crashFiles {
			b, err := readNoAtime(filepath.Join(c.dir, v, c.file(j)))
			if err != nil || !bytes.Equal(b, c.content(i, j)) {
				t.Errorf("%s is corrupted without a .partial: %s: %v", v, c.file(j), err)
			}
		}
	}
	return interrupted
}

// readNoAtime reads a file without marking it used: module versions are
// aged by atime.
func readNoAtime(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOATIME|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(f)
	return b.Bytes(), err
}

// fsEvents follows inotify events of one mask in some directories: the
// removals of a clean (IN_CREATE of a .partial) or the repairs of a fix
// (IN_ATTRIB).
type fsEvents struct {
	started     chan struct{} // closed at the first event
	first, last atomic.Int64  // unix nanoseconds of the first and the last event
}

// span is the time from the first event to the last: how long the
// removals or repairs went on, without the start and exit of the process
// around them (long under the race detector).
func (e *fsEvents) span() time.Duration { return time.Duration(e.last.Load() - e.first.Load()) }

// followEvents follows the events of mask in dirs until the test ends.
func followEvents(t *testing.T, dirs []string, mask uint32) *fsEvents {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, err := unix.InotifyAddWatch(fd, d, mask); err != nil {
			t.Fatal(err)
		}
	}
	e := &fsEvents{started: make(chan struct{})}
	stop := make(chan struct{})
	ended := make(chan struct{})
	t.Cleanup(func() { close(stop); <-ended })
	go func() {
		defer close(ended)
		defer unix.Close(fd)
		buf := make([]byte, 4096)
		for {
			select {
			case <-stop:
				return
			default:
			}
			unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 50)
			if n, _ := unix.Read(fd, buf); n > 0 {
				now := time.Now().UnixNano()
				if e.first.Load() == 0 {
					e.first.Store(now)
					close(e.started)
				}
				e.last.Store(now)
			}
		}
	}()
	return e
}

// gomaintKilled starts gomaint and kills it with SIGKILL delay after the
// first event on started (unless it ended before); it reports whether the
// kill came first.
func gomaintKilled(t *testing.T, env []string, started <-chan struct{}, delay time.Duration, args ...string) (killed bool) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return false
	case <-started:
	}
	select {
	case <-done:
		return false
	case <-time.After(delay):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	}
}

// TestCrashRecovery: `gomaint clean` and `gomaint fix` killed with SIGKILL
// at random points, over many trials, each followed by a normal run. No
// kill leaves a version that go would take as whole but is not, and the
// normal run completes every interrupted unit: the old versions are gone
// (no .partial, .zip or tree left), the young ones whole, every mode fixed.
func TestCrashRecovery(t *testing.T) {
	testenv.Root(t) // fix changes modes as root, the way the timer runs
	base := testenv.Dir(t)
	env := []string{"XDG_RUNTIME_DIR=" + base, "HOME=" + base, "GOFLAGS="}
	budget := time.Now().Add(40 * time.Second)
	trial := 0
	fresh := func(t *testing.T, writable bool) (*crashCache, string) {
		trial++
		d := filepath.Join(base, fmt.Sprintf("trial-%d", trial))
		c := &crashCache{dir: filepath.Join(d, "mod"), old: 60, young: 5}
		c.make(t, writable)
		cfg := filepath.Join(d, "gomaint.toml")
		os.WriteFile(cfg, []byte(fmt.Sprintf("[goroot]\nrequired = false\n[[target]]\nname = \"mod\"\nkind = \"mod\"\npath = %q\nmax_age = \"30d\"\nmin_age = \"1h\"\n", c.dir)), 0o644)
		return c, cfg
	}
	// Kills fall within the removals (or repairs) of a run: from the
	// first .partial created (or mode changed) to the end, as long as an
	// uninterrupted run of each takes.
	events := func(c *crashCache, isFix bool) *fsEvents {
		var dirs []string
		for i := range c.old + c.young {
			if isFix {
				dirs = append(dirs, filepath.Join(c.dir, c.mod(i)+"@v1.0.0"))
			} else {
				dirs = append(dirs, filepath.Join(c.dir, "cache/download", c.mod(i), "@v"))
			}
		}
		if isFix {
			return followEvents(t, dirs, unix.IN_ATTRIB)
		}
		return followEvents(t, dirs, unix.IN_CREATE)
	}
	span := map[bool]time.Duration{}
	for _, isFix := range []bool{false, true} {
		c, cfg := fresh(t, isFix)
		cmd := map[bool]string{false: "clean", true: "fix"}[isFix]
		ev := events(c, isFix)
		gomaintKilled(t, env, ev.started, time.Hour, cmd, "--system", "--config", cfg, "--log", "none")
		span[isFix] = ev.span()
		testenv.RemoveAll(t, filepath.Dir(c.dir))
	}
	t.Logf("uninterrupted: clean removes for %v, fix repairs for %v", span[false], span[true])

	var kills, interrupted, trials int
	for i := 0; trials < 12 || (time.Now().Before(budget) && trials < 60); i++ {
		trials++
		isFix := i%3 == 2
		cmd := "clean"
		if isFix {
			cmd = "fix"
		}
		c, cfg := fresh(t, isFix)
		delay := time.Duration(rand.Int64N(int64(span[isFix]) + 1))
		if gomaintKilled(t, env, events(c, isFix).started, delay, cmd, "--system", "--config", cfg, "--log", "none") {
			kills++
		}
		interrupted += c.check(t)
		if r := gomaint(t, env, cmd, "--system", "--config", cfg, "--log", "none"); r.code != 0 {
			t.Fatalf("trial %d: the %s after the kill: %+v", trials, cmd, r)
		}
		if n := c.check(t); n != 0 {
			t.Errorf("trial %d: %d versions still interrupted after a normal %s", trials, n, cmd)
		}
		if isFix {
			if r := gomaint(t, env, "fix", "--system", "--config", cfg, "--dry-run", "--json", "--log", "none"); r.code != 0 || strings.Contains(r.stdout, `"what"`) {
				t.Errorf("trial %d: a fix after the fix would still change: %+v", trials, r)
			}
		} else {
			for v := range c.old {
				dl := "cache/download/" + c.mod(v) + "/@v/v1.0.0"
				if c.exists(c.mod(v)+"@v1.0.0") || c.exists(dl+".zip") || c.exists(dl+".ziphash") {
					t.Errorf("trial %d: old version %s not removed by the clean after the kill", trials, c.mod(v))
				}
			}
			for v := c.old; v < c.old+c.young; v++ {
				if !c.exists(c.mod(v) + "@v1.0.0/sub/s11.go") {
					t.Errorf("trial %d: young version %s removed", trials, c.mod(v))
				}
			}
		}
		testenv.RemoveAll(t, filepath.Dir(c.dir))
	}
	t.Logf("%d trials, %d killed mid-run, %d versions left interrupted and then completed", trials, kills, interrupted)
	if kills < trials/3 || interrupted == 0 {
		t.Errorf("%d kills in %d trials left %d versions interrupted: the trials missed the removals", kills, trials, interrupted)
	}
}
