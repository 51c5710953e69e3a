package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestHalfRemovedVersion: a module version left with .partial (a removal
// or an extraction killed half way) is reported, with the command that
// completes it, and a young .partial (go at work) is not.
func TestHalfRemovedVersion(t *testing.T) {
	dir := testenv.RealCaches(t)
	mod := filepath.Join(dir, "gomodcache")
	dl := filepath.Join(mod, "cache/download/github.com/google/uuid/@v")
	old := time.Now().Add(-3 * time.Hour)
	for _, p := range []string{"v1.6.0.partial", "v1.0.0.partial"} {
		if err := os.WriteFile(filepath.Join(dl, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chtimes(filepath.Join(dl, "v1.6.0.partial"), old, old)
	r, sink := run(t, config.User, nil, caches(dir)...)
	f := must(t, r, "VERSION_HALF_REMOVED")
	if f.Count != 1 || !strings.Contains(f.Detail, "github.com/google/uuid@v1.6.0") || !strings.Contains(f.Fix, "gomaint clean") {
		t.Errorf("finding %+v: want one version, uuid@v1.6.0, fixed by gomaint clean", f)
	}
	var journaled bool
	for _, e := range sink.Snapshot() {
		journaled = journaled || e.Type == versionHalfRemoved.Type()
	}
	if !journaled {
		t.Error("no journal event for VERSION_HALF_REMOVED")
	}
}

// TestFutureTimestamps: entries dated in the future are reported.
func TestFutureTimestamps(t *testing.T) {
	dir := testenv.RealCaches(t)
	build := filepath.Join(dir, "gocache")
	entries, _ := filepath.Glob(filepath.Join(build, "[0-9a-f][0-9a-f]", "*-d"))
	if len(entries) < 3 {
		t.Fatalf("%d entries in the real cache", len(entries))
	}
	future := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range entries[:3] {
		os.Chtimes(e, future, future)
	}
	r, _ := run(t, config.User, nil, caches(dir)...)
	f := must(t, r, "FUTURE_TIMESTAMP")
	if f.Cache != "build" || f.Count != 3 || !strings.Contains(f.Detail, "2100") {
		t.Errorf("finding %+v: want 3 build entries dated 2100", f)
	}
	for _, e := range codes(r)["FUTURE_TIMESTAMP"] {
		if e.Cache == "mod" {
			t.Errorf("mod cache: %+v", e)
		}
	}
}

// TestDeepTreeFinding: a tree nested deeper than 256 levels (which clean
// can measure only in part) is reported once per deep branch.
func TestDeepTreeFinding(t *testing.T) {
	dir := testenv.RealCaches(t)
	build := filepath.Join(dir, "gocache")
	fd, err := unix.Open(build, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	name := "deep"
	for range 300 {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
		fd, name = next, "d"
	}
	unix.Close(fd)
	r, _ := run(t, config.User, nil, caches(dir)...)
	f := must(t, r, "TREE_TOO_DEEP")
	if f.Cache != "build" || f.Count != 1 || !strings.HasPrefix(f.Path, filepath.Join(build, "deep/d/d")) {
		t.Errorf("finding %+v: want one deep branch under %s/deep", f, build)
	}
}
