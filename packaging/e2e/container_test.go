//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
	"golang.org/x/sys/unix"
)

// cacheDir holds the cached root file system and each run's container.
// It is on persistent storage (not /tmp), like testenv's directories.
const cacheDir = "/var/cache/gomaint-test"

// The root file systems: Debian minbase plus what a booted systemd with
// user managers needs (real-systemd.md). Changing the list changes the name
// of the cached tarball, so a stale one is never used.
var includes = []string{"systemd", "systemd-sysv", "dbus", "libpam-systemd", "procps", "acl"}

// The Debian releases whose systemd the package must work with, oldest
// first: Debian 12 (systemd 252) and Debian 13 (systemd 257).
var knownSuites = []string{"bookworm", "trixie"}

// baseSuite is the release of the tests whose subject is not systemd's
// version (TestDefaults, TestDebianGOROOT and TestWatchLifecycle): two of
// them install Debian 12 packages that the host's apt fetches.
const baseSuite = "bookworm"

// suites returns the releases GOMAINT_E2E_SUITES names, separated by
// spaces; every known one when it is unset.
func suites(t *testing.T) []string {
	t.Helper()
	v, ok := os.LookupEnv("GOMAINT_E2E_SUITES")
	if !ok {
		return knownSuites
	}
	names := strings.Fields(v)
	if len(names) == 0 {
		t.Fatalf("GOMAINT_E2E_SUITES is empty: name one or more of %q, or unset it for all", knownSuites)
	}
	for _, n := range names {
		if !slices.Contains(knownSuites, n) {
			t.Fatalf("GOMAINT_E2E_SUITES=%q: unknown suite %q; use some of %q", v, n, knownSuites)
		}
	}
	return names
}

// forEachSuite runs test once for each selected release, as a subtest
// named for it, one after the other.
func forEachSuite(t *testing.T, test func(t *testing.T, suite string)) {
	for _, s := range suites(t) {
		t.Run(s, func(t *testing.T) { test(t, s) })
	}
}

// tarballMaxAge: an older cached root file system is rebuilt, so the
// container follows Debian's point releases and security updates.
const tarballMaxAge = 7 * 24 * time.Hour

// rootfsTarball returns a tarball of a debootstrapped root file system of
// a Debian release, with the packages extra besides the usual ones,
// building it (a minute or two) when no fresh one is cached. Each suite and
// list of packages has its own tarball.
func rootfsTarball(t *testing.T, suite string, extra ...string) string {
	t.Helper()
	pkgs := append(slices.Clone(includes), extra...)
	sum := sha256.Sum256([]byte(suite + " minbase " + strings.Join(pkgs, ",")))
	name := fmt.Sprintf("rootfs-%s-%s.tar", suite, hex.EncodeToString(sum[:4]))
	return cachedTarball(t, name, func(t *testing.T, root string) {
		debootstrap(t, 10*time.Minute, "--variant=minbase", "--include="+strings.Join(pkgs, ","), suite, root)
	})
}

// debootstrap runs debootstrap with args, and the mirror that
// GOMAINT_E2E_MIRROR names after them.
func debootstrap(t *testing.T, timeout time.Duration, args ...string) {
	t.Helper()
	testenv.Command(t, "debootstrap")
	if m := os.Getenv("GOMAINT_E2E_MIRROR"); m != "" {
		args = append(args, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "debootstrap", args...).CombinedOutput(); err != nil {
		t.Fatalf("debootstrap %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 40))
	}
}

// cachedTarball returns cacheDir/name, a tarball of a root file system
// that build makes in an empty directory, building it when no fresh one
// is cached.
func cachedTarball(t *testing.T, name string, build func(t *testing.T, root string)) string {
	t.Helper()
	tarball := filepath.Join(cacheDir, name)
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// One builder at a time: a second test run waits for the first's tarball.
	lock, err := os.OpenFile(tarball+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(tarball); err == nil && time.Since(st.ModTime()) < tarballMaxAge {
		return tarball
	}
	start := time.Now()
	work, err := os.MkdirTemp(cacheDir, "debootstrap-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	root := filepath.Join(work, "root")
	// The root directory must be 0755: with 0700 (MkdirTemp's mode) dbus
	// and logind hang and the boot never finishes.
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	build(t, root)
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(work, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", root, "--numeric-owner", "-cf", tmp, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, tarball); err != nil {
		t.Fatal(err)
	}
	t.Logf("phase debootstrap (cold, cached as %s): %v", tarball, time.Since(start).Round(100*time.Millisecond))
	return tarball
}

// container is one booted Debian with systemd as PID 1, run by a
// systemd-nspawn that this test started.
type container struct {
	dir    string // this run's directory: root/, boot.log, nspawn.pid
	root   string // the container's / on the host
	name   string
	nspawn *exec.Cmd
	exited chan struct{}
	pid1   int
	log    *os.File
}

// removeStale removes the directories of earlier runs whose systemd-nspawn
// is gone (a run killed by a timeout cannot clean up after itself).
func removeStale(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(cacheDir, "e2e-*"))
	old, _ := filepath.Glob(filepath.Join(cacheDir, "debootstrap-*"))
	for _, d := range old {
		if st, err := os.Stat(d); err == nil && time.Since(st.ModTime()) > 2*time.Hour {
			os.RemoveAll(d)
		}
	}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "nspawn.pid"))
		if err == nil {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.Contains(cmdline, []byte(d)) {
				continue // still running: another test run's
			}
		} else if st, err := os.Stat(d); err != nil || time.Since(st.ModTime()) < time.Hour {
			continue // being set up right now, maybe
		}
		if err := removeRoot(d); err != nil {
			t.Logf("stale %s: %v", d, err)
		}
	}
}

// removeRoot removes a run's directory unless something is mounted under
// it: a container's bind mount of the host's GOROOT must never be emptied.
func removeRoot(dir string) error {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(mi), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			return fmt.Errorf("not removing %s: %s is mounted", dir, f[4])
		}
	}
	return os.RemoveAll(dir)
}

// boot extracts the root file system into a fresh directory, lets prepare
// change it, boots it and waits for systemd to finish starting up. The
// container is stopped and removed when the test ends, whatever happens.
func boot(t *testing.T, tarball string, binds []string, prepare func(root string)) *container {
	t.Helper()
	removeStale(t)
	start := time.Now()
	dir, err := os.MkdirTemp(cacheDir, "e2e-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	c := &container{dir: dir, root: filepath.Join(dir, "root"), exited: make(chan struct{})}
	t.Cleanup(func() {
		c.stop(t)
		if err := removeRoot(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := os.Mkdir(c.root, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-C", c.root, "--numeric-owner", "-xf", tarball).CombinedOutput(); err != nil {
		t.Fatalf("extracting %s: %v\n%s", tarball, err, out)
	}
	if err := os.Chmod(c.root, 0o755); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(c.root)
	}
	t.Logf("phase extract: %v", time.Since(start).Round(10*time.Millisecond))

	start = time.Now()
	var rnd [3]byte
	rand.Read(rnd[:])
	c.name = "gomaint-e2e-" + hex.EncodeToString(rnd[:])
	c.log, err = os.Create(filepath.Join(dir, "boot.log"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-D", c.root, "--boot", "--register=no", "--keep-unit", "--console=passive", "--machine=" + c.name}
	for _, b := range binds {
		args = append(args, "--bind-ro="+b)
	}
	c.nspawn = exec.Command(testenv.Command(t, "systemd-nspawn"), args...)
	c.nspawn.Stdout, c.nspawn.Stderr = c.log, c.log
	// Should this test process die (a go test timeout), the container is
	// powered off rather than left running: nspawn turns SIGTERM into a
	// clean shutdown of the container.
	c.nspawn.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := c.nspawn.Start(); err != nil {
		t.Fatalf("systemd-nspawn: %v", err)
	}
	go func() { c.nspawn.Wait(); close(c.exited) }()
	os.WriteFile(filepath.Join(dir, "nspawn.pid"), []byte(strconv.Itoa(c.nspawn.Process.Pid)), 0o644)

	deadline := time.Now().Add(30 * time.Second)
	for c.pid1 == 0 {
		select {
		case <-c.exited:
			t.Fatalf("systemd-nspawn exited at once:\n%s", c.bootLog())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no systemd in the container after 30s:\n%s", c.bootLog())
		}
		c.pid1 = childNamed(c.nspawn.Process.Pid, "systemd")
		time.Sleep(50 * time.Millisecond)
	}
	state := ""
	for {
		out, _, _ := c.exec(10*time.Second, "systemctl", "is-system-running")
		state = strings.TrimSpace(out)
		if state == "running" || state == "degraded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container did not finish booting in 30s (is-system-running: %q):\n%s\n%s",
				state, c.out("systemctl", "list-jobs", "--no-pager"), c.bootLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if state == "degraded" {
		t.Logf("container booted degraded:\n%s", c.out("systemctl", "--failed", "--no-pager"))
	}
	t.Logf("phase boot: %v (%s)", time.Since(start).Round(10*time.Millisecond), state)
	return c
}

// prerequisites fails (or skips, outside CI) the test without root or a
// command that booting a container and building packages need, and
// returns the repository's root and the host's GOROOT, which containers
// get at goHost.
func prerequisites(t *testing.T, commands ...string) (repo, goroot string) {
	t.Helper()
	testenv.Root(t)
	testenv.Need(t, runtime.GOOS == "linux", "linux")
	for _, cmd := range append([]string{"systemd-nspawn", "nsenter", "tar", "go"}, commands...) {
		testenv.Command(t, cmd)
	}
	repo = repoRoot(t)
	return repo, strings.TrimSpace(testenv.Run(t, os.Environ(), repo, "go", "env", "GOROOT"))
}

// logOnFailure has a failed test log, at its end, the state of gomaint's
// units and its last lines in the journal.
func (c *container) logOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("container state at the end of the failed test:\n%s\n%s\n%s",
				c.out("systemctl", "--failed", "--no-pager"),
				c.out("systemctl", "status", "--no-pager", "-n", "0", "gomaint.service", "gomaint-clean.service", "gomaint-clean.timer"),
				c.out("journalctl", "--no-pager", "-o", "short-precise", "-n", "60", "SYSLOG_IDENTIFIER=gomaint"))
		}
	})
}

// put copies files of the host into the container's /root/e2e and
// returns their paths in the container.
func (c *container) put(t *testing.T, files ...string) []string {
	t.Helper()
	inbox := filepath.Join(c.root, "root", "e2e")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(inbox, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, "/root/e2e/"+filepath.Base(f))
	}
	return paths
}

// childNamed returns the pid of a child of parent whose command is name.
func childNamed(parent int, name string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		l, r := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if l < 0 || r < l {
			continue
		}
		f := strings.Fields(s[r+1:])
		if len(f) > 1 && s[l+1:r] == name && f[1] == strconv.Itoa(parent) {
			return pid
		}
	}
	return 0
}

func (c *container) bootLog() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "boot.log"))
	return "--- systemd-nspawn output ---\n" + tail(string(b), 40)
}

// stop powers the container off through its nspawn (SIGTERM), and kills
// what is left after 20 seconds.
func (c *container) stop(t *testing.T) {
	if c.nspawn == nil || c.nspawn.Process == nil {
		return
	}
	start := time.Now()
	c.nspawn.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		t.Errorf("the container did not stop within 20s of SIGTERM; killing it\n%s", c.bootLog())
		if c.pid1 > 0 {
			syscall.Kill(c.pid1, syscall.SIGKILL) // ends its whole pid namespace
		}
		c.nspawn.Process.Kill()
		<-c.exited
	}
	c.log.Close()
	b, _ := os.ReadFile(filepath.Join(c.dir, "boot.log"))
	t.Logf("phase stop: %v; systemd-nspawn's last words: %q", time.Since(start).Round(10*time.Millisecond),
		strings.Split(tail(string(b), 3), "\n"))
}

// env is the environment of every command run in the container.
var env = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8", "TERM=dumb", "HOME=/root",
	"SYSTEMD_PAGER=", "PAGER=cat", "SYSTEMD_COLORS=0", "DEBIAN_FRONTEND=noninteractive",
}

// exec runs a command in the container (all of its namespaces and its
// root) and returns its combined output and exit status. err is set only
// when the command could not run or timed out.
func (c *container) exec(timeout time.Duration, args ...string) (string, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(c.pid1), "-a"}, args...)...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Stdin = nil
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.String(), -1, fmt.Errorf("timed out after %v", timeout)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode(), nil
	}
	if err != nil {
		return out.String(), -1, err
	}
	return out.String(), 0, nil
}

// run runs a command that must succeed within a minute.
func (c *container) run(t *testing.T, args ...string) string {
	t.Helper()
	return c.runT(t, time.Minute, args...)
}

func (c *container) runT(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	out, code, err := c.exec(timeout, args...)
	if err != nil || code != 0 {
		t.Fatalf("in the container: %s: exit %d %v\n%s", shellQuote(args), code, err, out)
	}
	return out
}

// sh runs a shell script that must succeed.
func (c *container) sh(t *testing.T, script string) string {
	t.Helper()
	return c.run(t, "sh", "-ec", script)
}

// out runs a command for its output only, for failure messages.
func (c *container) out(args ...string) string {
	out, code, err := c.exec(30*time.Second, args...)
	s := "$ " + shellQuote(args) + "\n" + out
	if code != 0 || err != nil {
		s += fmt.Sprintf("(exit %d %v)\n", code, err)
	}
	return s
}

// show returns systemd properties of a unit (add "--user" style options
// through user).
func (c *container) show(t *testing.T, unit string, props ...string) map[string]string {
	t.Helper()
	args := []string{"systemctl", "show", unit}
	for _, p := range props {
		args = append(args, "-p", p)
	}
	return parseShow(c.run(t, args...))
}

func parseShow(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// entry is one journal entry as `journalctl -o json` prints it.
type entry map[string]string

// journal runs journalctl -o json with args and returns the entries.
// Binary fields and repeated fields keep only their text or first value.
func (c *container) journal(t *testing.T, args ...string) []entry {
	t.Helper()
	var from int64
	query := []string{"journalctl", "--no-pager", "-o", "json"}
	for _, a := range args {
		if us, ok := strings.CutPrefix(a, sinceArg); ok {
			from, _ = strconv.ParseInt(us, 10, 64)
			a = fmt.Sprintf("--since=@%d", from/1e6-1)
		}
		query = append(query, a)
	}
	out, code, err := c.exec(30*time.Second, query...)
	if err != nil || code != 0 {
		t.Fatalf("journalctl %s: exit %d %v\n%s", shellQuote(args), code, err, out)
	}
	var es []entry
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			t.Fatalf("journalctl printed a line that is not JSON: %v\n%s", err, line)
		}
		e := entry{}
		for k, v := range raw {
			var s string
			if json.Unmarshal(v, &s) == nil {
				e[k] = s
				continue
			}
			var ss []string
			if json.Unmarshal(v, &ss) == nil && len(ss) > 0 {
				e[k] = ss[0]
				continue
			}
			var bs []byte
			if json.Unmarshal(v, &bs) == nil {
				e[k] = string(bs)
			}
		}
		if from > 0 {
			if at, err := strconv.ParseInt(e["__REALTIME_TIMESTAMP"], 10, 64); err != nil || at < from {
				continue
			}
		}
		es = append(es, e)
	}
	return es
}

// waitJournal polls the journal until args match at least one entry that
// ok accepts (nil: any), and returns those entries.
func (c *container) waitJournal(t *testing.T, timeout time.Duration, ok func(entry) bool, args ...string) []entry {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var hits []entry
		for _, e := range c.journal(t, args...) {
			if ok == nil || ok(e) {
				hits = append(hits, e)
			}
		}
		if len(hits) > 0 || time.Now().After(deadline) {
			return hits
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// since limits a query of journal to entries received at or after ts (the
// container's clock is the host's). journal turns it into a --since of the
// second before, which is as fine as --since goes, and drops the entries
// received earlier within that second by their __REALTIME_TIMESTAMP.
func since(ts time.Time) string { return sinceArg + strconv.FormatInt(ts.UnixMicro(), 10) }

const sinceArg = "since-usec="

func (e entry) String() string {
	keys := []string{"MESSAGE_ID", "MESSAGE", "PRIORITY", "_SYSTEMD_UNIT", "_SYSTEMD_USER_UNIT", "_UID"}
	var b strings.Builder
	for _, k := range keys {
		if v, ok := e[k]; ok {
			fmt.Fprintf(&b, "%s=%s ", k, v)
		}
	}
	var fields []string
	for k := range e {
		if strings.HasPrefix(k, "GOMAINT_") {
			fields = append(fields, k)
		}
	}
	sort.Strings(fields)
	for _, k := range fields {
		fmt.Fprintf(&b, "%s=%s ", k, e[k])
	}
	return strings.TrimSpace(b.String())
}

func entries(es []entry) string {
	if len(es) == 0 {
		return "(no entries)"
	}
	var b strings.Builder
	for _, e := range es {
		b.WriteString("  " + e.String() + "\n")
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$\\*?;&|<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
