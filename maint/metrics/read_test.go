package metrics

import (
	"errors"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestReadRoundTrips: what Write writes, Read gives back (paths aside,
// which are no label; findings of 0 are not kept), so CLI runs can carry
// counters and timestamps from one run to the next.
func TestReadRoundTrips(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no file: %v", err)
	}
	want := full()
	want.Targets = append(want.Targets, Target{Name: `odd"name\`, Kind: "build"})
	if err := Write(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Targets {
		// An age is not carried over: the file does not say when it was
		// written, and the next audit measures it again.
		want.Targets[i].Path, want.Targets[i].OldestEntryUnix = "", 0
	}
	sort.Slice(got.Targets, func(i, j int) bool { return got.Targets[i].Name < got.Targets[j].Name })
	sort.Slice(want.Targets, func(i, j int) bool { return want.Targets[i].Name < want.Targets[j].Name })
	if got.BuildFailures["disk_full"] != 2 || got.BuildFailures["other"] != 1 || got.BuildFailures["goroot"] != 0 || len(got.BuildFailures) != 7 {
		t.Errorf("build failures %v", got.BuildFailures)
	}
	if !reflect.DeepEqual(got.Targets, want.Targets) || got.GorootOK != want.GorootOK {
		t.Errorf("targets:\n got %+v\nwant %+v", got.Targets, want.Targets)
	}
	if len(got.Findings) != 2 || got.Findings[0] != (Finding{Target: "", Code: "GOROOT_MISSING", Severity: "error", Count: 1}) ||
		got.Findings[1] != (Finding{Target: "build", Code: "LOW_DISK", Severity: "warning", Count: 3}) {
		t.Errorf("findings %+v", got.Findings)
	}
}

// TestReadOldCacheName: a file written before gomaint_cache_bytes became
// gomaint_cache_disk_bytes still gives each target's size, so the first
// clean after an upgrade does not zero the other targets' figures.
func TestReadOldCacheName(t *testing.T) {
	s, err := parseText(strings.NewReader("# TYPE gomaint_cache_bytes gauge\ngomaint_cache_bytes{target=\"mod\",kind=\"mod\"} 4096\n"))
	if err != nil || len(s.Targets) != 1 || s.Targets[0].DiskBytes != 4096 {
		t.Errorf("%+v, %v", s, err)
	}
}
