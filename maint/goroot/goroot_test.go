package goroot

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/testenv"
)

// realGOROOT is the installation the tests themselves run with.
func realGOROOT(t *testing.T) string {
	testenv.Command(t, "go")
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// fakeRoot makes a directory with a Go root's layout around the given go binary.
func fakeRoot(t *testing.T, gobin []byte, platform string) string {
	root := t.TempDir()
	for _, d := range []string{"bin", "src/runtime", "pkg/tool/" + platform} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WriteExec(t, filepath.Join(root, "bin", "go"), bytes.NewReader(gobin))
	return root
}

func check(t *testing.T, req Request, code finding.Code, reason string) Result {
	t.Helper()
	r := Check(context.Background(), req)
	if r.Code != code || r.OK != code.IsZero() {
		t.Fatalf("Check(%+v) = %+v; want code %q", req, r, code)
	}
	if !strings.Contains(r.Reason, reason) {
		t.Errorf("reason %q does not say %q", r.Reason, reason)
	}
	if !code.IsZero() && r.Fix == "" {
		t.Errorf("no fix for %s", code)
	}
	return r
}

func TestUsable(t *testing.T) {
	root := realGOROOT(t)
	r := check(t, Request{EnvGOROOT: root}, finding.Code{}, "")
	if r.Version != runtime.Version() && !strings.HasPrefix(r.Version, "go1.") {
		t.Errorf("version %q", r.Version)
	}
	if r.Path != root || r.Source != "$GOROOT" {
		t.Errorf("path %q from %q", r.Path, r.Source)
	}
	// An explicit path wins over the environment.
	if r := check(t, Request{Path: root, EnvGOROOT: "/nonexistent"}, finding.Code{}, ""); r.Source != "configured" {
		t.Errorf("source %q", r.Source)
	}
}

func TestMissing(t *testing.T) {
	check(t, Request{}, Missing, "GOROOT is not set and no go command is in PATH")
	check(t, Request{EnvGOROOT: "/nonexistent"}, Missing, "GOROOT /nonexistent does not exist")
}

func TestNotAGoRoot(t *testing.T) {
	check(t, Request{Path: t.TempDir()}, Invalid, "bin/go (the go command) is missing")
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	check(t, Request{Path: f}, Invalid, "is not a directory")
}

// TestOtherArchitecture: a real go command cross-built for another
// architecture, in a Go root laid out for it.
func TestOtherArchitecture(t *testing.T) {
	testenv.Command(t, "go")
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	bin := filepath.Join(t.TempDir(), "go")
	src := filepath.Join(t.TempDir(), "main.go")
	os.WriteFile(src, []byte("package main\nfunc main() {}\n"), 0o644)
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Env = append(os.Environ(), "GOARCH="+other, "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cross build: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(bin)
	root := fakeRoot(t, data, "linux_"+other)
	check(t, Request{Path: root}, Invalid, "go command for "+other+", but this machine is "+runtime.GOARCH)
}

// TestVersionFails: a go command that cannot run (a truncated binary).
func TestVersionFails(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(realGOROOT(t), "bin", "go"))
	if err != nil {
		t.Fatal(err)
	}
	root := fakeRoot(t, data[:4096], Host)
	check(t, Request{Path: root}, Invalid, "`go version` failed")
}

func TestTooOld(t *testing.T) {
	r := check(t, Request{Path: realGOROOT(t), ExpectVersion: "go1.999"}, Invalid, "older than the expected go1.999")
	if r.Version == "" {
		t.Error("the version should still be reported")
	}
	check(t, Request{Path: realGOROOT(t), ExpectVersion: "go1.21"}, finding.Code{}, "")
}

func BenchmarkCheck(b *testing.B) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skip("no go command")
	}
	root := strings.TrimSpace(string(out))
	for b.Loop() {
		if r := Check(context.Background(), Request{Path: root}); !r.OK {
			b.Fatal(r.Reason)
		}
	}
}

// TestResultJSON: a verdict is written as before codes were declared (a
// usable GOROOT has no "code" at all) and reads back as itself, as
// `gomaint status` reads the daemon's status.json.
func TestResultJSON(t *testing.T) {
	for _, tc := range []struct {
		r    Result
		want string
	}{
		{Result{Path: "/usr/local/go", Version: "go1.26.0", OK: true, Source: "go env"},
			`{"path":"/usr/local/go","version":"go1.26.0","ok":true,"source":"go env"}`},
		{Result{Path: "/opt/go", Code: Missing, Reason: "GOROOT /opt/go does not exist", Fix: "install Go", Source: "configured"},
			`{"path":"/opt/go","version":"","ok":false,"code":"GOROOT_MISSING","reason":"GOROOT /opt/go does not exist","fix":"install Go","source":"configured"}`},
	} {
		b, err := json.Marshal(tc.r)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal = %s, %v\nwant %s", b, err, tc.want)
		}
		var back Result
		if err := json.Unmarshal(b, &back); err != nil || back != tc.r {
			t.Errorf("%s reads back as %+v, %v", b, back, err)
		}
	}
}
