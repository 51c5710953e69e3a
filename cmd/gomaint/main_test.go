package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/testenv"
)

var binary string

// TestMain builds the real binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	if os.Getenv(exchangeEnv) != "" {
		exchangeLoop() // an attacker's helper, run as another user
	}
	dir, err := os.MkdirTemp("", "gomaint-bin-")
	if err != nil {
		panic(err)
	}
	os.Chmod(dir, 0o755) // other users run it too
	binary = filepath.Join(dir, "gomaint")
	args := []string{"build", "-o", binary}
	if raceEnabled { // the daemon's goroutines get the race detector too
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	testenv.Cleanup()
	if two.dir != "" {
		os.RemoveAll(two.dir)
	}
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func gomaint(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return gomaintAs(t, env, nil, args...)
}

func gomaintAs(t *testing.T, env []string, attr *syscall.SysProcAttr, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = attr
	return collect(t, cmd)
}

// collectTimeout is how long collect lets a command run: no command of
// these tests takes a tenth of it, even under the race detector and qemu.
const collectTimeout = 5 * time.Minute

// collect runs cmd to its end and returns its exit status and output. A
// hang fails the test with where it hung, not as the package's timeout
// minutes later: a command still running after collectTimeout gets
// SIGABRT (a Go program prints every goroutine, GOTRACEBACK=all), and
// the test fails with that and the process tree. gomaint run forwards
// SIGQUIT, so SIGABRT it is.
func collect(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(cmd.Env, "GOTRACEBACK=all") // callers set Env
	// A process the command left behind holding its output is a failure
	// too, after WaitDelay, not a hang.
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	hung := make(chan []byte, 1)
	timer := time.AfterFunc(collectTimeout, func() {
		hung <- descendants()
		cmd.Process.Signal(syscall.SIGABRT)
	})
	err := cmd.Wait()
	timer.Stop()
	select {
	case tree := <-hung:
		t.Fatalf("%s still ran after %v; the processes then:\n%s\nits stderr, with SIGABRT's traceback:\n%s", cmd, collectTimeout, tree, errb.String())
	default:
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		t.Fatalf("%s ended, but something it started still held its output %v later:\n%s", cmd, cmd.WaitDelay, descendants())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// descendants lists this test's processes below it, with their state and
// command lines: ps --ppid, by hand, for any depth.
func descendants() []byte {
	var out bytes.Buffer
	ps, _ := exec.Command("ps", "-eo", "pid=,ppid=,stat=,etime=,args=").Output()
	kids := map[string][]string{}
	lines := map[string]string{}
	for _, l := range strings.Split(string(ps), "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			kids[f[1]] = append(kids[f[1]], f[0])
			lines[f[0]] = l
		}
	}
	var walk func(pid string, depth int)
	walk = func(pid string, depth int) {
		for _, k := range kids[pid] {
			fmt.Fprintf(&out, "%s%s\n", strings.Repeat("  ", depth), strings.TrimSpace(lines[k]))
			walk(k, depth+1)
		}
	}
	walk(fmt.Sprint(os.Getpid()), 0)
	return out.Bytes()
}

func writeConfig(t *testing.T, body string) string {
	f := filepath.Join(t.TempDir(), "gomaint.toml")
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestGOROOTMissingExits78(t *testing.T) {
	r := gomaint(t, []string{"GOROOT=/nonexistent"}, "check", "goroot", "--log", "none")
	if r.code != 78 || !strings.Contains(r.stderr, "GOROOT_MISSING: GOROOT /nonexistent does not exist") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("check goroot: %+v", r)
	}
	r = gomaint(t, []string{"GOROOT=/nonexistent"}, "audit", "--log", "none")
	if r.code != 78 || !strings.Contains(r.stdout, "/nonexistent") {
		t.Errorf("audit: %+v", r)
	}
}

func TestCheckGOROOTOK(t *testing.T) {
	testenv.Command(t, "go")
	out, _ := exec.Command("go", "env", "GOROOT").Output()
	root := strings.TrimSpace(string(out))
	r := gomaint(t, nil, "check", "goroot", "--goroot", root, "--log", "none")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "GOROOT "+root+" is usable: go1.") {
		t.Errorf("%+v", r)
	}
	r = gomaint(t, nil, "check", "goroot", "--goroot", root, "--expect-version", "go1.999", "--log", "none")
	if r.code != 78 || !strings.Contains(r.stderr, "GOROOT_INVALID") {
		t.Errorf("%+v", r)
	}
}

func TestBadConfigNamesFileLineKey(t *testing.T) {
	f := writeConfig(t, "[[target]]\nname = \"build\"\nkind = \"build\"\nmax_size = \"-1GiB\"\n")
	for _, args := range [][]string{{"audit"}, {"config", "check", f}, {"check", "goroot"}} {
		if args[0] != "config" {
			args = append(args, "--config", f)
		}
		r := gomaint(t, nil, append(args, "--log", "none")...)
		want := f + ":4: target.max_size: \"-1GiB\" is negative"
		if r.code != 78 || !strings.Contains(r.stderr, want) {
			t.Errorf("%v: %+v; want %q", args, r, want)
		}
	}
}

func TestConfigShowRoundTrips(t *testing.T) {
	f := writeConfig(t, "[[target]]\nname = \"b\"\nkind = \"build\"\npath = \"/srv/b\"\nmax_size = \"10GiB\"\n")
	r := gomaint(t, nil, "config", "show", "--config", f)
	if r.code != 0 || !strings.Contains(r.stdout, `max_size = "10GiB"`) || !strings.Contains(r.stdout, "low_disk_percent = 5.0") {
		t.Fatalf("%+v", r)
	}
	shown := writeConfig(t, r.stdout)
	if r := gomaint(t, nil, "config", "check", shown); r.code != 0 {
		t.Errorf("shown configuration does not check: %+v", r)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"audit", "--fail-on", "fatal"}, {"audit", "--nope"}, {"audit", "extra"}, {"check"}, {"audit", "--log", "syslog"}, {"audit", "--target", "nosuch"}} {
		if r := gomaint(t, nil, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
	// Every command that takes no argument names the one it was given.
	for _, cmd := range [][]string{{"audit"}, {"clean"}, {"fix"}, {"protect"}, {"status"}, {"serve"}, {"check", "goroot"}} {
		args := append(cmd, "--log", "none", "extra")
		r := gomaint(t, nil, args...)
		if want := "gomaint " + strings.Join(cmd, " ") + `: unexpected argument "extra"`; r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", args, r.code, r.stderr, want)
		}
	}
}

// TestAuditJSON: the stable schema on real caches, and the exit status
// following --fail-on.
func TestAuditJSON(t *testing.T) {
	dir := testenv.RealCaches(t)
	f := writeConfig(t, fmt.Sprintf("[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\nmax_size = 1000\n\n[[target]]\nname = \"mod\"\nkind = \"mod\"\npath = %q\n",
		filepath.Join(dir, "gocache"), filepath.Join(dir, "gomodcache")))
	r := gomaint(t, nil, "audit", "--json", "--config", f, "--log", "none")
	if r.code != 0 { // OVER_LIMIT is a warning, below the default --fail-on error
		t.Fatalf("exit %d: %s\n%s", r.code, r.stderr, r.stdout) // the report says why
	}
	var rep struct {
		Version int `json:"version"`
		GOROOT  *struct {
			Path    *string `json:"path"`
			Version *string `json:"version"`
			OK      *bool   `json:"ok"`
		} `json:"goroot"`
		Caches   []map[string]json.RawMessage `json:"caches"`
		Findings []struct {
			Code, Severity, Cache, Path, Detail, Fix string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Version != 2 || rep.GOROOT == nil || rep.GOROOT.Path == nil || rep.GOROOT.OK == nil || !*rep.GOROOT.OK || len(rep.Caches) != 2 {
		t.Fatalf("report: %s", r.stdout)
	}
	for _, c := range rep.Caches {
		for _, k := range []string{"name", "kind", "path", "owner", "apparent_bytes", "disk_bytes", "files", "dirs", "oldest_unix", "newest_unix", "fs"} {
			if _, ok := c[k]; !ok {
				t.Errorf("cache lacks %q", k)
			}
		}
		var fs map[string]json.RawMessage
		json.Unmarshal(c["fs"], &fs)
		for _, k := range []string{"type", "options", "free_bytes", "free_inodes"} {
			if _, ok := fs[k]; !ok {
				t.Errorf("fs lacks %q", k)
			}
		}
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Code != "OVER_LIMIT" || rep.Findings[0].Severity != "warning" || rep.Findings[0].Cache != "build" {
		t.Errorf("findings: %+v", rep.Findings)
	}
	if r := gomaint(t, nil, "audit", "--config", f, "--fail-on", "warning", "--log", "none"); r.code != 1 || !strings.Contains(r.stdout, "OVER_LIMIT") {
		t.Errorf("--fail-on warning: %+v", r)
	}
	// Events go to stderr as readable lines when there is no journal.
	if r := gomaint(t, nil, "audit", "--config", f, "--log", "stderr"); !strings.Contains(r.stderr, "gomaint: warning: finding: OVER_LIMIT") {
		t.Errorf("stderr events: %q", r.stderr)
	}
}

// TestScanIncompleteAsUser: a user who cannot read part of their cache
// (a root-owned 0700 shard) gets SCAN_INCOMPLETE, not a crash.
func TestScanIncompleteAsUser(t *testing.T) {
	testenv.Root(t)
	uid, gid := testenv.Nobody(t)
	dir := testenv.RealCaches(t)
	cache := filepath.Join(dir, "gocache")
	testenv.Run(t, nil, "", "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), cache)
	os.Chown(filepath.Join(cache, "5c"), 0, 0)
	os.Chmod(filepath.Join(cache, "5c"), 0o700)
	f := filepath.Join(dir, "gomaint.toml") // readable by nobody, unlike t.TempDir()
	os.WriteFile(f, []byte(fmt.Sprintf("[goroot]\nrequired = false\n[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\n", cache)), 0o644)
	attr := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	r := gomaintAs(t, []string{"HOME=" + dir}, attr, "audit", "--config", f, "--json", "--log", "none")
	if r.code != 1 || !strings.Contains(r.stdout, "SCAN_INCOMPLETE") || !strings.Contains(r.stdout, "5c: open directory: permission denied") {
		t.Errorf("%+v", r)
	}
}

// TestCleanCLI: --dry-run --json lists removals then a summary per target;
// the real run removes the same; a limit blocked by min_age exits 1.
func TestCleanCLI(t *testing.T) {
	dir := testenv.RealCaches(t)
	cache := filepath.Join(dir, "gocache")
	old := time.Now().Add(-48 * time.Hour)
	filepath.Walk(cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, "-a") {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	f := writeConfig(t, fmt.Sprintf("[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\n", cache))
	env := []string{"XDG_RUNTIME_DIR=" + dir}
	r := gomaint(t, env, "clean", "--config", f, "--dry-run", "--json", "--max-age", "1d", "--log", "none")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var summary struct {
		Summary struct {
			Target     string `json:"target"`
			DryRun     bool   `json:"dry_run"`
			Units      int64  `json:"units"`
			FreedBytes int64  `json:"freed_bytes"`
		} `json:"summary"`
	}
	if r.code != 0 || len(lines) < 2 || json.Unmarshal([]byte(lines[len(lines)-1]), &summary) != nil ||
		!summary.Summary.DryRun || summary.Summary.Units != int64(len(lines)-1) || !strings.Contains(lines[0], `"unit":"action"`) {
		t.Fatalf("dry run: %+v", r)
	}
	r = gomaint(t, env, "clean", "--config", f, "--max-age", "1d", "--log", "none")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("removed %s", config.FormatSize(summary.Summary.FreedBytes))) {
		t.Errorf("real run: %+v", r)
	}
	r = gomaint(t, env, "clean", "--config", f, "--max-size", "1KiB", "--log", "none")
	if r.code != 1 || !strings.Contains(r.stdout, "still over its limit: min_age") {
		t.Errorf("blocked: %+v", r)
	}
	for _, bad := range [][]string{{"--max-size", "lots"}, {"--max-age", "10m"}, {"--target", "nope"}} {
		if r := gomaint(t, env, append([]string{"clean", "--config", f, "--log", "none"}, bad...)...); r.code != 2 {
			t.Errorf("%v: exit %d", bad, r.code)
		}
	}
}

// TestFixCLI: as the cache's owner (not root), fix says which entries need
// root and the exact command; as root, it repairs them.
func TestFixCLI(t *testing.T) {
	testenv.Root(t)
	uid, gid := testenv.Nobody(t)
	dir := testenv.RealCaches(t)
	cache := filepath.Join(dir, "gocache")
	testenv.Run(t, nil, "", "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), cache)
	os.Chown(filepath.Join(cache, "2d"), 0, 0) // left by sudo go build
	f := filepath.Join(dir, "gomaint.toml")
	os.WriteFile(f, []byte(fmt.Sprintf("[goroot]\nrequired = false\n[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\n", cache)), 0o644)
	attr := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	run := filepath.Join(dir, "run") // nobody's runtime directory, for the lock
	os.Mkdir(run, 0o700)
	os.Chown(run, uid, gid)
	env := []string{"HOME=" + dir, "XDG_RUNTIME_DIR=" + run}
	r := gomaintAs(t, env, attr, "fix", "--config", f, "--log", "none")
	if r.code != 1 || !strings.Contains(r.stdout, "1 entries belong to other users and need root: sudo -E gomaint fix --target build") {
		t.Fatalf("as owner: %+v", r)
	}
	r = gomaint(t, env, "fix", "--config", f, "--system", "--dry-run", "--json", "--log", "none")
	if r.code != 0 || !strings.Contains(r.stdout, `"path":"2d","what":"owner"`) {
		t.Fatalf("dry run as root: %+v", r)
	}
	r = gomaint(t, env, "fix", "--config", f, "--system", "--log", "none")
	var st syscall.Stat_t
	syscall.Stat(filepath.Join(cache, "2d"), &st)
	if r.code != 0 || st.Uid != uint32(uid) {
		t.Fatalf("as root: %+v, owner now %d", r, st.Uid)
	}
}

// TestProtectCLI: protect writes the user's exclusion once, idempotently.
func TestProtectCLI(t *testing.T) {
	dir := testenv.Dir(t)
	cache := filepath.Join(dir, "gocache")
	os.Mkdir(cache, 0o755)
	f := writeConfig(t, fmt.Sprintf("[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\n", cache))
	env := []string{"XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	r := gomaint(t, env, "protect", "--config", f, "--log", "none")
	conf := filepath.Join(dir, "config", "user-tmpfiles.d", "gomaint.conf")
	data, _ := os.ReadFile(conf)
	if r.code != 0 || !strings.Contains(r.stdout, "wrote x \""+cache+"\"") || !strings.Contains(string(data), "\nx \""+cache+"\"\n") {
		t.Fatalf("%+v\n%s", r, data)
	}
	if r = gomaint(t, env, "protect", "--config", f, "--log", "none"); !strings.Contains(r.stdout, "already excluded") {
		t.Errorf("second run: %+v", r)
	}
}

// TestProtectWithoutHome: with neither XDG_CONFIG_HOME nor HOME there is
// no user file; protect wrote .config/user-tmpfiles.d/gomaint.conf under
// the working directory, where systemd-tmpfiles never reads it.
func TestProtectWithoutHome(t *testing.T) {
	dir := testenv.Dir(t)
	f := writeConfig(t, fmt.Sprintf("[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\n", dir))
	cmd := exec.Command(binary, "protect", "--config", f, "--log", "none")
	cmd.Env = append(os.Environ(), "HOME=", "XDG_CONFIG_HOME=")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 78 || !strings.Contains(string(out), "set XDG_CONFIG_HOME or HOME") {
		t.Errorf("protect without a home: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, ".config")); err == nil {
		t.Error("protect wrote under the working directory")
	}
}

// TestGlobalFlagsBeforeCommand: the flags every command takes work before
// the command too, as with git or systemctl (issue 12.9).
func TestGlobalFlagsBeforeCommand(t *testing.T) {
	dir := testenv.Dir(t)
	cache := filepath.Join(dir, "gocache")
	os.Mkdir(cache, 0o755)
	f := writeConfig(t, fmt.Sprintf("[goroot]\nrequired = false\n[[target]]\nname = \"mine\"\nkind = \"build\"\npath = %q\n", cache))
	for _, args := range [][]string{
		{"--config", f, "audit", "--json"},
		{"--config=" + f, "--log", "none", "audit", "--json"},
		{"--log=none", "--config", f, "audit", "--json"},
	} {
		r := gomaint(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, `"name": "mine"`) {
			t.Errorf("%v: %+v", args, r)
		}
	}
	if r := gomaint(t, nil, "--config", f, "config", "check"); r.code != 0 || !strings.Contains(r.stdout, f+": ok, 1 targets") {
		t.Errorf("config check: %+v", r)
	}
	if r := gomaint(t, nil, "--config", f, "check", "goroot", "--goroot", "/nonexistent", "--log", "none"); r.code != 78 || !strings.Contains(r.stderr, "GOROOT_MISSING") {
		t.Errorf("check goroot: %+v", r)
	}
	// A command's own flag before the command is named, with where it goes.
	if r := gomaint(t, nil, "--json", "audit"); r.code != 2 || !strings.Contains(r.stderr, `"--json" is not a flag of every command; put it after the command`) {
		t.Errorf("--json first: %+v", r)
	}
	if r := gomaint(t, nil, "--config"); r.code != 2 || !strings.Contains(r.stderr, "--config needs a value") {
		t.Errorf("--config alone: %+v", r)
	}
}

// TestConfigShowDefaultLimit: with no configuration file the build cache
// has max_size "auto", and config show and audit say what it comes to
// for the file system the cache is on (issue 12.3).
func TestConfigShowDefaultLimit(t *testing.T) {
	testenv.Root(t)
	home := testenv.Mount(t, testenv.Dir(t), "tmpfs", "tmpfs", "size=200m")
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=", "XDG_CACHE_HOME=", "GOCACHE=", "GOMODCACHE=", "GOPATH=", "GOENV="}
	r := gomaint(t, env, "config", "show")
	want := fmt.Sprintf("#   build  %s/.cache/go-build: 20MiB", home)
	if r.code != 0 || !strings.Contains(r.stdout, `max_size = "auto"`) || !strings.Contains(r.stdout, want) {
		t.Errorf("config show: %+v; want %q", r, want)
	}
	if shown := writeConfig(t, r.stdout); gomaint(t, env, "config", "check", shown).code != 0 {
		t.Errorf("shown configuration does not check")
	}
	os.MkdirAll(filepath.Join(home, ".cache", "go-build"), 0o755)
	if r := gomaint(t, env, "audit", "--log", "none"); !strings.Contains(r.stdout, "; limit 20MiB (auto); owner") {
		t.Errorf("audit: %+v", r)
	}
}
