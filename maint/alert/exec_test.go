package alert

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/testenv"
)

// hook writes an executable shell script and returns an exec route for it.
func hook(t *testing.T, script string) Route {
	t.Helper()
	sh := testenv.Command(t, "sh")
	p := filepath.Join(t.TempDir(), "hook")
	testenv.WriteExec(t, p, strings.NewReader("#!"+sh+"\n"+script))
	return Route{Name: "pager", Format: "json", Exec: []string{p, "--team", "build"}, RetryFor: time.Hour, Timeout: 5 * time.Second}
}

// TestHookDelivers: the hook gets the alert as gomaint's JSON on stdin,
// its arguments, and an environment of PATH and the GOMAINT_* variables
// only, each without control characters.
func TestHookDelivers(t *testing.T) {
	out := t.TempDir()
	r := hook(t, `cat > "`+out+`/stdin"; env > "`+out+`/env"; echo "$@" > "`+out+`/args"`)
	t.Setenv("GOMAINT_SECRET_FROM_PARENT", "x")
	sp := spoolOf(t, "pager", "id1")
	es := entries(t, sp)
	es[0].Alert.Path = "/var/cache/go/evil\nname\x00"
	if err := sp.Put(es[0]); err != nil {
		t.Fatal(err)
	}
	mem := &journal.Memory{}
	if res := flush(t, sp, newClock(), mem, r); res.Delivered != 1 || res.Pending != 0 {
		t.Fatalf("flush %+v", res)
	}
	var a Alert
	data, _ := os.ReadFile(filepath.Join(out, "stdin"))
	if err := json.Unmarshal(data, &a); err != nil || a.ID != "id1" || a.Path != es[0].Alert.Path {
		t.Errorf("stdin %q: %v", data, err)
	}
	env, _ := os.ReadFile(filepath.Join(out, "env"))
	got := strings.Split(strings.TrimSpace(string(env)), "\n")
	slices.Sort(got)
	want := []string{"GOMAINT_ALERT_ID=id1", "GOMAINT_CODE=ALERT_TEST_WARN", `GOMAINT_PATH=/var/cache/go/evil\nname\x00`,
		"GOMAINT_ROUTE=pager", "GOMAINT_SEVERITY=warning", "GOMAINT_STATUS=firing", "GOMAINT_TARGET=build", "PATH=/usr/bin:/bin", "PWD=/"}
	if !slices.Equal(got, want) {
		t.Errorf("environment\n%q\nwant\n%q", got, want)
	}
	if args, _ := os.ReadFile(filepath.Join(out, "args")); string(args) != "--team build\n" {
		t.Errorf("arguments %q", args)
	}
	if ev := events(mem, journal.AlertDelivered); len(ev) != 1 || ev[0].Fields["GOMAINT_EXIT_STATUS"] != "0" || ev[0].Fields["GOMAINT_RECEIVER"] != "exec "+r.Exec[0] {
		t.Errorf("events %+v", mem.Snapshot())
	}
}

// TestHookFails: a non-zero exit is retried, with what the hook said.
func TestHookFails(t *testing.T) {
	r := hook(t, "echo 'no route to pager' >&2; exit 3")
	sp := spoolOf(t, "pager", "id1")
	mem, c := &journal.Memory{}, newClock()
	res := flush(t, sp, c, mem, r)
	es := entries(t, sp)
	if res.Failed != 1 || len(es) != 1 || es[0].Attempts != 1 || !strings.Contains(es[0].LastError, "exit status 3: no route to pager") {
		t.Fatalf("flush %+v, left %+v", res, es)
	}
	if ev := events(mem, journal.AlertFailed); len(ev) != 1 || ev[0].Fields["GOMAINT_EXIT_STATUS"] != "3" {
		t.Errorf("events %+v", mem.Snapshot())
	}
}

// TestHookHangs: a hook that does not finish is killed at the timeout,
// with the children it started.
func TestHookHangs(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	r := hook(t, "sleep 600 & echo $! > "+pidFile+"; wait")
	r.Timeout = time.Second
	sp := spoolOf(t, "pager", "id1")
	start := time.Now()
	res := flush(t, sp, newClock(), &journal.Memory{}, r)
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("flush took %v with a 1s timeout", took)
	}
	es := entries(t, sp)
	if res.Failed != 1 || len(es) != 1 || !strings.Contains(es[0].LastError, "did not finish within 1s: killed") {
		t.Fatalf("flush %+v, left %+v", res, es)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	for deadline := time.Now().Add(5 * time.Second); alive(pid); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the hook's child %d still runs", pid)
		}
	}
}

// alive: the process exists and is not a zombie waiting for its reaper.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// TestHookFloods: a hook writing megabytes to stdout and stderr is not
// blocked by a full pipe, and its output is not kept.
func TestHookFloods(t *testing.T) {
	r := hook(t, "head -c 30000000 /dev/zero; head -c 30000000 /dev/zero >&2; echo done >&2")
	at := Send(t.Context(), &r, &Alert{ID: "x"}, "test")
	if at.Outcome != Delivered || at.ExitStatus != 0 {
		t.Fatalf("attempt %+v", at)
	}
	r = hook(t, "head -c 30000000 /dev/zero >&2; echo the end >&2; exit 1")
	at = Send(t.Context(), &r, &Alert{ID: "x"}, "test")
	if at.Outcome != Failed || !strings.HasSuffix(at.Err.Error(), "the end") || len(at.Err.Error()) > 400 {
		t.Fatalf("attempt %+v; want the output's end, bounded", at)
	}
}
