package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// smallGOROOT copies what `check goroot` needs of the real GOROOT (its
// VERSION, bin, src/runtime and an empty pkg/tool/<os>_<arch>): a usable
// GOROOT of a few MB.
func smallGOROOT(t *testing.T) string {
	testenv.Command(t, "go")
	testenv.Command(t, "cp")
	out, _ := exec.Command("go", "env", "GOROOT", "GOHOSTOS", "GOHOSTARCH").Output()
	f := strings.Fields(string(out))
	real, dst := f[0], filepath.Join(testenv.Dir(t), "go")
	os.MkdirAll(filepath.Join(dst, "src"), 0o755)
	os.MkdirAll(filepath.Join(dst, "pkg", "tool", f[1]+"_"+f[2]), 0o755)
	for _, p := range []string{"VERSION", "bin", "src/runtime"} {
		if out, err := exec.Command("cp", "-a", filepath.Join(real, p), filepath.Join(dst, p)).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
	}
	return dst
}

// TestCheckGOROOTVerifyRecord: the exit statuses, lines and JSON of
// `check goroot --verify` and `--record` on a tarball GOROOT.
func TestCheckGOROOTVerifyRecord(t *testing.T) {
	root := smallGOROOT(t)
	state := testenv.Dir(t)
	env := []string{"STATE_DIRECTORY=" + state}
	run := func(args ...string) result {
		return gomaint(t, env, append([]string{"check", "goroot", "--goroot", root, "--log", "none"}, args...)...)
	}
	if r := run("--verify", "--record"); r.code != 2 {
		t.Errorf("--verify --record: %+v", r)
	}
	r := run("--verify")
	if r.code != 78 || !strings.Contains(r.stderr, "has no baseline") || !strings.Contains(r.stderr, "gomaint check goroot --record --goroot "+root) {
		t.Fatalf("no baseline: %+v", r)
	}
	r = run("--record")
	file := filepath.Join(state, "goroot", strings.TrimSpace(r.stdout[strings.LastIndex(r.stdout, "/")+1:]))
	if r.code != 0 || !strings.Contains(r.stdout, "baseline recorded in "+filepath.Join(state, "goroot")+"/") {
		t.Fatalf("--record: %+v", r)
	}
	for _, p := range []struct {
		path string
		mode os.FileMode
	}{{filepath.Join(state, "goroot"), os.ModeDir | 0o755}, {file, 0o644}} {
		if fi, err := os.Stat(p.path); err != nil || fi.Mode() != p.mode {
			t.Errorf("%s: %v, %v; want %v", p.path, fi.Mode(), err, p.mode)
		}
	}
	if r := run("--verify"); r.code != 0 || !strings.Contains(r.stdout, "verified against its gomaint baseline") {
		t.Fatalf("as recorded: %+v", r)
	}

	os.WriteFile(filepath.Join(root, "src/runtime/extern.go"), []byte("package runtime\n"), 0o644)
	r = run("--verify")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "gomaint: GOROOT_MODIFIED: ") || !strings.Contains(r.stderr, "  changed src/runtime/extern.go: contents differ\n") {
		t.Errorf("changed: %+v", r)
	}
	r = run("--verify", "--json")
	var out struct {
		GOROOT struct{ OK bool }
		Verify struct {
			Code    string
			Changed []struct{ Path, What string }
			Added   []string
			Removed []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 1 {
		t.Fatalf("--json: %v: %+v", err, r)
	}
	if !out.GOROOT.OK || out.Verify.Code != "GOROOT_MODIFIED" || len(out.Verify.Changed) != 1 || out.Verify.Changed[0].Path != "src/runtime/extern.go" ||
		out.Verify.Added == nil || out.Verify.Removed == nil || !strings.Contains(r.stdout, `"added":[]`) {
		t.Errorf("--json: %s", r.stdout)
	}

	// An upgrade is not a modification: exit 78, asking to record anew.
	os.WriteFile(filepath.Join(root, "VERSION"), []byte("go1.99.0\n"), 0o644)
	if r := run("--verify"); r.code != 78 || strings.Contains(r.stderr, "GOROOT_MODIFIED") || !strings.Contains(r.stderr, "record anew") {
		t.Errorf("after an upgrade: %+v", r)
	}
	// An unusable GOROOT exits 78 before any verification, as before.
	if r := gomaint(t, env, "check", "goroot", "--goroot", "/nonexistent", "--verify", "--log", "none"); r.code != 78 || !strings.Contains(r.stderr, "GOROOT_MISSING") {
		t.Errorf("missing: %+v", r)
	}
}

// TestCheckGOROOTRecordRefusesPackaged: Debian's GOROOT has dpkg's
// md5sums as its baseline; --record refuses it, --verify uses them.
func TestCheckGOROOTRecordRefusesPackaged(t *testing.T) {
	found, _ := filepath.Glob("/usr/lib/go-1.*/bin/go")
	testenv.Need(t, len(found) > 0, "Debian's Go (apt-get install golang-1.19-go)")
	root := filepath.Dir(filepath.Dir(found[0]))
	env := []string{"STATE_DIRECTORY=" + testenv.Dir(t)}
	r := gomaint(t, env, "check", "goroot", "--goroot", root, "--record", "--log", "none")
	if r.code != 78 || !strings.Contains(r.stderr, "was installed by the Debian package golang-") {
		t.Errorf("--record: %+v", r)
	}
	r = gomaint(t, env, "check", "goroot", "--goroot", root, "--verify", "--log", "none")
	if r.code != 0 || !strings.Contains(r.stdout, "verified against its dpkg baseline") {
		t.Errorf("--verify: %+v", r)
	}
}
