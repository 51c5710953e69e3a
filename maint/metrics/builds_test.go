package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/buildfail"
)

// lockDir is a lock directory of the test's own.
func lockDir(t *testing.T) string { return filepath.Join(t.TempDir(), "gomaint") }

func readFile(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// failures is the counter as the file says it, every reason present.
func failures(t *testing.T, dir string) map[string]string {
	t.Helper()
	help, typ, ss := parse(t, readFile(t, dir))
	if help[buildFailures] != 1 || typ[buildFailures] != 1 || !strings.Contains(readFile(t, dir), "# TYPE "+buildFailures+" counter\n") {
		t.Errorf("%s: %d HELP, %d TYPE lines, want one counter", buildFailures, help[buildFailures], typ[buildFailures])
	}
	got := map[string]string{}
	for _, s := range find(ss, buildFailures, nil) {
		got[s.labels["reason"]] = s.value
	}
	for _, r := range buildfail.All() {
		if _, ok := got[r]; !ok {
			t.Errorf("no sample for reason %s", r)
		}
	}
	return got
}

// Two failed builds: one per reason each, the rest of the file as the
// last writer left it, and the family where Format puts it.
func TestBuildFailed(t *testing.T) {
	dir, locks := t.TempDir(), lockDir(t)
	if err := BuildFailed(locks, dir, []string{buildfail.DiskFull}); err != nil {
		t.Fatal(err)
	}
	if got := failures(t, dir); got["disk_full"] != "1" || got["goroot"] != "0" {
		t.Errorf("after one failure: %v", got)
	}

	s := full()
	s.BuildFailures = nil
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	if err := BuildFailed(locks, dir, []string{buildfail.DiskFull, buildfail.GOROOT}); err != nil {
		t.Fatal(err)
	}
	got := failures(t, dir)
	if got["disk_full"] != "2" || got["goroot"] != "1" || got["other"] != "0" {
		t.Errorf("after two failures: %v", got)
	}
	s.BuildFailures = map[string]int64{"disk_full": 2, "goroot": 1}
	if want := format(t, s); readFile(t, dir) != want {
		t.Errorf("the file is not what Format writes for the same figures:\n%s\nwant\n%s", readFile(t, dir), want)
	}

	if err := BuildFailed(locks, dir, []string{"disk-full"}); err == nil || !strings.Contains(err.Error(), `"disk-full"`) {
		t.Errorf("an unknown reason: %v", err)
	}
	if err := BuildFailed(locks, dir, nil); err != nil {
		t.Errorf("no reasons: %v", err)
	}
	if got := failures(t, dir); got["disk_full"] != "2" {
		t.Errorf("a refused call counted: %v", got)
	}
}

// The daemon rewrites the file from its own figures, and a CLI audit from
// what it read back: neither knows the counter, both keep it, and one
// that says less does not take it back.
func TestBuildFailuresSurviveRewrites(t *testing.T) {
	dir, locks := t.TempDir(), lockDir(t)
	if err := BuildFailed(locks, dir, []string{buildfail.CacheVanished, buildfail.Other}); err != nil {
		t.Fatal(err)
	}
	daemon := full()
	daemon.BuildFailures = nil
	if err := Write(dir, daemon); err != nil {
		t.Fatal(err)
	}
	if got := failures(t, dir); got["cache_vanished"] != "1" || got["other"] != "1" {
		t.Errorf("after a daemon's write: %v", got)
	}

	prev, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, Audited(prev, &audit.Report{Caches: []audit.CacheReport{{Name: "build", Kind: "build"}}}, false, daemon.Now)); err != nil {
		t.Fatal(err)
	}
	if got := failures(t, dir); got["cache_vanished"] != "1" || got["other"] != "1" {
		t.Errorf("after a CLI audit: %v", got)
	}

	daemon.BuildFailures = map[string]int64{"other": 0, "goroot": 4}
	if err := Write(dir, daemon); err != nil {
		t.Fatal(err)
	}
	if got := failures(t, dir); got["other"] != "1" || got["goroot"] != "4" {
		t.Errorf("after a write that says less of other: %v", got)
	}
}

// Failed builds and daemon rewrites at once, every writer under the lock
// as the daemon and gomaint run hold it: not one failure is lost.
func TestBuildFailedWithDaemonWrites(t *testing.T) {
	dir, locks := t.TempDir(), lockDir(t)
	daemon := full()
	daemon.BuildFailures = nil
	var wg sync.WaitGroup
	const builds = 20
	for range builds {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := BuildFailed(locks, dir, []string{buildfail.ModuleDownload}); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			release, err := Lock(locks)
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			if err := Write(dir, daemon); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := failures(t, dir); got["module_download"] != "20" {
		t.Errorf("after %d failures among daemon writes: %v", builds, got)
	}
}

// Reason labels are escaped as every label is, and read back.
func TestBuildFailuresEscaping(t *testing.T) {
	odd := "a\"b\\c\nd\xffe"
	text := format(t, Snapshot{BuildFailures: map[string]int64{odd: 3}})
	if !strings.Contains(text, buildFailures+`{reason="a\"b\\c\nd`+"\uFFFD"+`e"} 3`+"\n") {
		t.Errorf("label value not escaped:\n%s", text)
	}
	dir := t.TempDir()
	if err := Write(dir, Snapshot{BuildFailures: map[string]int64{odd: 3}}); err != nil {
		t.Fatal(err)
	}
	s, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.BuildFailures[strings.ToValidUTF8(odd, "\uFFFD")] != 3 || s.BuildFailures["goroot"] != 0 || len(s.BuildFailures) != 8 {
		t.Errorf("read back %v", s.BuildFailures)
	}
}
