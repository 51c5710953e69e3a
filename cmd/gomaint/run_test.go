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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// runIn runs gomaint in dir with env (added to the test's), its stdin
// from stdin.
func runIn(t *testing.T, env []string, dir, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env, cmd.Dir, cmd.Stdin = append(os.Environ(), env...), dir, strings.NewReader(stdin)
	return collect(t, cmd)
}

// runJSON is `gomaint run --json ARGS` in dir, the report decoded from
// the last line of its standard output.
func runJSON(t *testing.T, env []string, dir string, args ...string) (runReport, result) {
	t.Helper()
	r := runIn(t, env, dir, "", append([]string{"run", "--json", "--log", "none"}, args...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var rep runReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("gomaint run %v: %v: %+v", args, err, r)
	}
	return rep, r
}

// gocacheOf is GOCACHE in env.
func gocacheOf(env []string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOCACHE="); ok {
			return v
		}
	}
	return ""
}

// buildCache is the report's build cache.
func buildCache(t *testing.T, rep runReport) cacheReport {
	t.Helper()
	for _, c := range rep.Caches {
		if c.Kind == "build" {
			return c
		}
	}
	t.Fatalf("no build cache in %+v", rep)
	return cacheReport{}
}

// entryNames lists the build cache's action and output entries.
func entryNames(cache string) map[string]bool {
	names, _ := filepath.Glob(filepath.Join(cache, "??", "*-[ad]"))
	set := map[string]bool{}
	for _, n := range names {
		set[filepath.Base(n)] = true
	}
	return set
}

// twoModules gives the test a copy of a build cache filled by real
// builds of two modules, A and B (made once per test binary), and returns
// their directories, the environment with the copy as GOCACHE, and the
// entries only B's build made.
func twoModules(t *testing.T) (a, b string, env []string, onlyB map[string]bool) {
	testenv.Command(t, "go")
	two.once.Do(func() {
		two.err = errors.New("making the two builds failed in an earlier test")
		two.err = two.make(t) // a t.Fatal inside leaves the error above
	})
	if two.err != nil {
		t.Fatal(two.err)
	}
	dir := testenv.Dir(t)
	testenv.Run(t, nil, "", "cp", "-a", filepath.Join(two.dir, "gocache"), dir)
	// The fixture's environment but for GOCACHE: go keys some entries
	// on GOPATH and GOMODCACHE too.
	for _, kv := range two.env {
		if strings.HasPrefix(kv, "GOCACHE=") {
			kv = "GOCACHE=" + filepath.Join(dir, "gocache")
		}
		env = append(env, kv)
	}
	env = append(env, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	// Entries changed in the two seconds before a run are the run's to
	// keep (youngSlack), and the copy changed every ctime.
	time.Sleep(2100 * time.Millisecond)
	return two.a, two.b, env, two.onlyB
}

// twoBuilds is the cache twoModules copies, with the modules' sources.
type twoBuilds struct {
	once      sync.Once
	err       error
	dir, a, b string
	env       []string
	onlyB     map[string]bool
}

var two twoBuilds

// make builds A, then B, into a fresh cache.
func (f *twoBuilds) make(t testing.TB) error {
	var err error
	if f.dir, err = os.MkdirTemp("/var/tmp", "gomaint-run-"); err != nil {
		return err
	}
	f.env = append(testenv.GoEnv(f.dir), "GOFLAGS=-buildvcs=false")
	f.a = testenv.StdModule(t, f.dir, "a", "encoding/json")
	f.b = testenv.StdModule(t, f.dir, "b", "text/template", "net/mail")
	build := func(dir string) error {
		cmd := exec.Command("go", "build", "-o", "/dev/null", ".")
		cmd.Env, cmd.Dir = append(os.Environ(), f.env...), dir // as runIn's
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build in %s: %v\n%s", dir, err, out)
		}
		return nil
	}
	if err := build(f.a); err != nil {
		return err
	}
	cache := filepath.Join(f.dir, "gocache")
	withA := entryNames(cache)
	if err := build(f.b); err != nil {
		return err
	}
	f.onlyB = map[string]bool{}
	for n := range entryNames(cache) {
		if !withA[n] {
			f.onlyB[n] = true
		}
	}
	if len(f.onlyB) < 10 {
		return fmt.Errorf("building B added only %d entries", len(f.onlyB))
	}
	return nil
}

func TestRunPruneKeepsTheWorkingSet(t *testing.T) {
	a, b, env, onlyB := twoModules(t)
	cache := gocacheOf(env)

	rep, r := runJSON(t, env, a, "--prune", "--", "go", "build", "-o", "/dev/null", ".")
	c := buildCache(t, rep)
	if r.code != 0 || c.Prune == nil || c.Prune.Units < int64(len(onlyB)) || c.PruneSkipped != "" {
		t.Fatalf("prune after building A: %+v\n%+v", c, r)
	}
	// A miss or two: go keys an entry of a main package on where the
	// cache is, and the copy moved it.
	if c.Misses > 2 || c.Hits < 100 || c.UsedEntries == 0 || c.UsedDiskBytes == 0 {
		t.Errorf("a warm build of A: %+v", c)
	}
	left := entryNames(cache)
	for n := range onlyB {
		if left[n] {
			t.Errorf("B's entry %s survived the prune", n)
		}
	}

	rep, _ = runJSON(t, env, a, "--", "go", "build", "-o", "/dev/null", ".")
	if c := buildCache(t, rep); c.Misses != 0 || c.Hits == 0 {
		t.Errorf("A after the prune is not all hits: %+v", c)
	}
	rep, r = runJSON(t, env, b, "--", "go", "build", "-o", "/dev/null", ".")
	if c := buildCache(t, rep); r.code != 0 || c.Misses == 0 {
		t.Errorf("B after the prune: %+v\n%+v", c, r)
	}
}

func TestRunPruneDryRun(t *testing.T) {
	a, _, env, onlyB := twoModules(t)
	cache := gocacheOf(env)
	before := entryNames(cache)
	r := runIn(t, env, a, "", "run", "--prune", "--dry-run", "--log", "none", "--", "go", "build", "-o", "/dev/null", ".")
	if r.code != 0 || strings.Count(r.stdout, "would remove ") < len(onlyB) || !strings.Contains(r.stderr, "would prune") {
		t.Fatalf("%+v", r)
	}
	after := entryNames(cache)
	for n := range before {
		if !after[n] {
			t.Errorf("a dry run removed %s", n)
		}
	}
}

func TestRunExitStatusAndStreams(t *testing.T) {
	dir := t.TempDir()
	env := append(testenv.GoEnv(dir), "XDG_CONFIG_HOME="+dir)
	for _, c := range []struct {
		argv []string
		code int
	}{
		{[]string{"sh", "-c", "exit 7"}, 7},
		{[]string{"sh", "-c", "kill -TERM $$"}, 143},
	} {
		r := runIn(t, env, dir, "", append([]string{"run", "--log", "none", "--"}, c.argv...)...)
		if r.code != c.code {
			t.Errorf("%v: exit %d, want %d: %+v", c.argv, r.code, c.code, r)
		}
	}
	r := runIn(t, env, dir, "from stdin\n", "run", "--log", "none", "--", "sh", "-c", "cat; echo to-stderr >&2")
	if r.code != 0 || r.stdout != "from stdin\n" || !strings.HasPrefix(r.stderr, "to-stderr\n") {
		t.Errorf("streams: %+v", r)
	}
	// Flags after the command are the command's.
	r = runIn(t, env, dir, "", "run", "--log", "none", "--", "echo", "--prune", "--json")
	if r.code != 0 || r.stdout != "--prune --json\n" {
		t.Errorf("flags after the command: %+v", r)
	}
	if r := runIn(t, env, dir, "", "run", "--log", "none"); r.code != exitUsage {
		t.Errorf("no command: %+v", r)
	}
}

// TestRunDoesNotWaitForOrphans: gomaint run ends when its command does,
// as the command alone would, even when a process the command left
// behind still holds the standard error gomaint reads for failures.
func TestRunDoesNotWaitForOrphans(t *testing.T) {
	dir := t.TempDir()
	env := append(testenv.GoEnv(dir), "XDG_CONFIG_HOME="+dir)
	pidFile := filepath.Join(dir, "orphan")
	t.Cleanup(func() {
		if pid, err := os.ReadFile(pidFile); err == nil {
			exec.Command("kill", strings.TrimSpace(string(pid))).Run()
		}
	})
	start := time.Now()
	r := runIn(t, env, dir, "", "run", "--log", "none", "--", "sh", "-c", `sleep 120 >/dev/null & echo $! >"$0"; echo late >&2`, pidFile)
	if r.code != 0 || !strings.HasPrefix(r.stderr, "late\n") {
		t.Errorf("gomaint run: %+v", r)
	}
	if took := time.Since(start); took > 60*time.Second {
		t.Errorf("gomaint run took %v: it waited for the orphan to close standard error", took)
	}
}

// TestRunCannotStart: a command that cannot be run exits 127 when it is
// not there, 126 when it is but cannot be run, as a shell's would.
func TestRunCannotStart(t *testing.T) {
	dir := t.TempDir()
	env := append(testenv.GoEnv(dir), "XDG_CONFIG_HOME="+dir)
	for _, c := range []struct {
		argv []string
		code int
	}{
		{[]string{"/nonexistent/command"}, 127},
		{[]string{"no-such-command-on-path"}, 127},
		{[]string{dir}, 126}, // a directory
	} {
		r := runIn(t, env, dir, "", append([]string{"run", "--log", "none", "--"}, c.argv...)...)
		if r.code != c.code || !strings.HasPrefix(r.stderr, "gomaint run: ") {
			t.Errorf("%v: exit %d, want %d: %+v", c.argv, r.code, c.code, r)
		}
	}
}

func TestRunSIGTERMEndsTheCommandWithoutPruning(t *testing.T) {
	a, _, env, onlyB := twoModules(t)
	cache := gocacheOf(env)
	marker := filepath.Join(t.TempDir(), "started")
	cmd := exec.Command(binary, "run", "--prune", "--json", "--log", "none", "--",
		"sh", "-c", `go build -o /dev/null . && touch "$0" && exec sleep 60`, marker)
	cmd.Env, cmd.Dir = append(os.Environ(), env...), a
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			break
		} else if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the command never started: %s", errb.String())
		}
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
		t.Fatalf("exit: %v; want 143\n%s", err, errb.String())
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("gomaint took %v to end after SIGTERM: the command did not get it", took)
	}
	var rep runReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Signal != "terminated" {
		t.Fatalf("report: %v %+v", err, rep)
	}
	if c := buildCache(t, rep); c.Prune != nil || c.Hits == 0 {
		t.Errorf("pruned after SIGTERM, or saw nothing: %+v", c)
	}
	left := entryNames(cache)
	for n := range onlyB {
		if !left[n] {
			t.Fatalf("entry %s was removed after SIGTERM", n)
		}
	}
}

func TestRunNamesWhyTheBuildFailed(t *testing.T) {
	testenv.Command(t, "go")
	dir := testenv.Dir(t)
	prom := filepath.Join(dir, "prom")
	if err := os.Mkdir(prom, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, "[daemon]\nmetrics_dir = \""+prom+"\"\n")
	src := testenv.StdModule(t, dir, "a")
	env := append(testenv.GoEnv(dir), "GOROOT=/nonexistent")
	for range 2 {
		rep, r := runJSON(t, env, src, "--config", cfg, "--", "go", "build", "-o", "/dev/null", ".")
		if r.code == 0 || len(rep.Failures) != 1 || rep.Failures[0].Reason != "goroot" || !strings.Contains(rep.Failures[0].Line, "/nonexistent") {
			t.Fatalf("%+v\n%+v", rep.Failures, r)
		}
	}
	// A failure gomaint cannot name is "other", a command killed by a
	// signal too.
	runIn(t, env, src, "", "run", "--config", cfg, "--log", "none", "--", "sh", "-c", "echo it broke >&2; exit 1")
	runIn(t, env, src, "", "run", "--config", cfg, "--log", "none", "--", "sh", "-c", "kill -INT $$")
	body, err := os.ReadFile(filepath.Join(prom, "gomaint.prom"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`gomaint_build_failures_total{reason="goroot"} 2`, `gomaint_build_failures_total{reason="other"} 2`, `gomaint_build_failures_total{reason="disk_full"} 0`} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
}

// TestRunJournals: a run with --log stderr prints its RUN event, with the
// figures as fields, an attacker-chosen command line escaped.
func TestRunJournals(t *testing.T) {
	dir := t.TempDir()
	env := append(testenv.GoEnv(dir), "XDG_CONFIG_HOME="+dir)
	if err := os.MkdirAll(filepath.Join(dir, "gocache", "00"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runIn(t, env, dir, "", "run", "--log", "stderr", "--target", "build", "--", "sh", "-c", "exit 0", "x\nMESSAGE=forged")
	if r.code != 0 || !strings.Contains(r.stderr, "run: build "+filepath.Join(dir, "gocache")+": 0 hits") ||
		!strings.Contains(r.stderr, `EXIT_STATUS="0"`) || !strings.Contains(r.stderr, `HITS="0"`) || strings.Contains(r.stderr, "\nMESSAGE=forged") {
		t.Errorf("%+v", r)
	}
}

// TestRunHoldsTheCacheLock: while the command runs, a clean of the same
// cache (as the daemon's trims would) waits and gives up, and removes
// nothing the build may be using.
func TestRunHoldsTheCacheLock(t *testing.T) {
	dir := testenv.Dir(t)
	env := append(testenv.GoEnv(dir), "XDG_CONFIG_HOME="+dir, "XDG_RUNTIME_DIR="+filepath.Join(dir, "run"))
	cache := testenv.GoCacheRoot(t, dir)
	testenv.BuildCache(t, cache, 50, 1000, 48*time.Hour)
	before := len(entryNames(cache))
	marker := filepath.Join(dir, "started")
	cmd := exec.Command(binary, "run", "--log", "none", "--target", "build", "--", "sh", "-c", `touch "$0" && sleep 8`, marker)
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
	}
	r := gomaint(t, env, "clean", "--target", "build", "--max-size", "1KiB", "--log", "none")
	if r.code != exitFindings || !strings.Contains(r.stdout+r.stderr, "being worked on by another gomaint") {
		t.Errorf("clean during a run: %+v", r)
	}
	if after := len(entryNames(cache)); after != before {
		t.Errorf("the clean removed %d entries during the run", before-after)
	}
}

// TestRunGoEnvPlacesTheCacheElsewhere: the caches are watched where the
// environment and go's defaults place them, while go env runs beside the
// command. When go env places one elsewhere (a go.env of go's own can),
// the report says that one went unwatched, and nothing is pruned there.
func TestRunGoEnvPlacesTheCacheElsewhere(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	env := append(testenv.GoEnv(dir), "XDG_CONFIG_HOME="+dir, "GOROOT=", "PATH="+bin+":"+os.Getenv("PATH"))
	guessed := testenv.GoCacheRoot(t, dir)
	if guessed != gocacheOf(env) {
		t.Fatalf("GOCACHE %s, cache made at %s", gocacheOf(env), guessed)
	}
	elsewhere := testenv.GoCacheRoot(t, filepath.Join(dir, "else"))
	mods := filepath.Join(dir, "gomodcache")
	os.Mkdir(mods, 0o755)
	answer := fmt.Sprintf(`{"GOCACHE": %q, "GOMODCACHE": %q, "GOPATH": %q}`, elsewhere, mods, filepath.Join(dir, "gopath"))
	// It also says its nice value: go env runs beside the command at 10.
	niceFile := filepath.Join(dir, "nice")
	testenv.WriteExec(t, filepath.Join(bin, "go"), strings.NewReader("#!/bin/sh\ncut -d' ' -f19 /proc/$$/stat > "+niceFile+"\necho '"+answer+"'\n"))

	rep, r := runJSON(t, env, dir, "--prune", "--", "true")
	if r.code != 0 {
		t.Fatalf("gomaint run: %+v", r)
	}
	c := buildCache(t, rep)
	if c.Path != elsewhere || c.Prune != nil || !strings.Contains(c.NotWatched, "go env gave "+elsewhere) || !strings.Contains(c.NotWatched, guessed) {
		t.Errorf("build cache %+v: want %s, not watched, because go env placed it there and not at %s", c, elsewhere, guessed)
	}
	for _, c := range rep.Caches {
		if c.Kind == "mod" && (c.Path != mods || c.NotWatched != "") {
			t.Errorf("module cache %+v: want %s watched, where go env agreed", c, mods)
		}
	}
	if nice, err := os.ReadFile(niceFile); err != nil || strings.TrimSpace(string(nice)) != "10" {
		t.Errorf("go env ran at nice %q (%v); want 10", nice, err)
	}
}
