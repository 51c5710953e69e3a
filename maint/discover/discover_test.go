package discover

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

func TestNativeDefaults(t *testing.T) {
	e := Native(EnvFrom([]string{"HOME=/home/a"}))
	if e.GOCACHE != "/home/a/.cache/go-build" || e.GOPATH != "/home/a/go" || e.GOMODCACHE != "/home/a/go/pkg/mod" || e.GOENV != "/home/a/.config/go/env" {
		t.Errorf("%+v", e)
	}
	e = Native(EnvFrom([]string{"HOME=/home/a", "XDG_CACHE_HOME=/c", "GOPATH=/p1:/p2"}))
	if e.GOCACHE != "/c/go-build" || e.GOMODCACHE != "/p1/pkg/mod" {
		t.Errorf("%+v", e)
	}
	// go rejects a relative XDG_CACHE_HOME; so does gomaint.
	if e = Native(EnvFrom([]string{"HOME=/h", "XDG_CACHE_HOME=rel"})); e.GOCACHE != "" {
		t.Errorf("relative XDG_CACHE_HOME: %q", e.GOCACHE)
	}
}

// TestEnvFileOrder: environment, then the user's go env file, then
// $GOROOT/go.env, as go itself reads them.
func TestEnvFileOrder(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	os.WriteFile(envFile, []byte("GOCACHE=/from/file\nGOTOOLCHAIN=go1.30.0\n"), 0o644)
	root := filepath.Join(dir, "goroot")
	os.MkdirAll(root, 0o755)
	os.WriteFile(filepath.Join(root, "go.env"), []byte("GOTOOLCHAIN=auto\nGOFLAGS=-trimpath\n"), 0o644)
	e := Native(EnvFrom([]string{"HOME=/h", "GOENV=" + envFile, "GOROOT=" + root, "GOMODCACHE=/from/env"}))
	if e.GOCACHE != "/from/file" || e.GOTOOLCHAIN != "go1.30.0" || e.GOFLAGS != "-trimpath" || e.GOMODCACHE != "/from/env" {
		t.Errorf("%+v", e)
	}
}

// TestResolveAgreesWithGo: with a real go command, Resolve reports what
// `go env` says, and the native computation agrees with it.
func TestResolveAgreesWithGo(t *testing.T) {
	testenv.Command(t, "go")
	home := testenv.GoHome(t)
	environ := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	e := Resolve(context.Background(), environ)
	if e.Source != "go env" || e.GoCmd == "" {
		t.Fatalf("%+v", e)
	}
	cmd := exec.Command("go", "env", "GOCACHE", "GOMODCACHE")
	cmd.Env = environ
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(out))
	if e.GOCACHE != want[0] || e.GOMODCACHE != want[1] {
		t.Errorf("Resolve %q %q, go env %q", e.GOCACHE, e.GOMODCACHE, want)
	}
	n := Native(EnvFrom(environ))
	if n.GOCACHE != e.GOCACHE || n.GOMODCACHE != e.GOMODCACHE {
		t.Errorf("native %q %q differs from go env %q %q", n.GOCACHE, n.GOMODCACHE, e.GOCACHE, e.GOMODCACHE)
	}
	// A GOTOOLCHAIN that would need a download is reported, not run.
	e = Resolve(context.Background(), append(environ, "GOTOOLCHAIN=go1.99.0"))
	if e.Source != "go env" || e.GOTOOLCHAIN != "go1.99.0" {
		t.Errorf("%+v", e)
	}
}

func TestNoGo(t *testing.T) {
	e := Resolve(context.Background(), []string{"HOME=/h", "PATH=/nonexistent"})
	if e.Source != "defaults" || e.GoErr == nil || e.GOCACHE != "/h/.cache/go-build" {
		t.Errorf("%+v", e)
	}
}

// TestEnvFileAgreesWithGo: a hand-edited go env file (spaces, CRLF,
// comments, lower-case keys, an empty value) means to gomaint what it
// means to the real go command.
func TestEnvFileAgreesWithGo(t *testing.T) {
	testenv.Command(t, "go")
	home := testenv.GoHome(t)
	envFile := filepath.Join(home, "goenv")
	body := "# edited by hand\n GOCACHE=/spaced/key\nGOMODCACHE=/srv/mod\nGOMODCACHE= /spaced/value\nGOCACHE=/srv/build\r\ngopath=/lower\nGOTOOLCHAIN=\n"
	if err := os.WriteFile(envFile, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	// With GOROOT set, $GOROOT/go.env (GOTOOLCHAIN=auto) is read too.
	environ := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GOENV=" + envFile, "GOROOT=" + strings.TrimSpace(string(goroot))}
	cmd := exec.Command("go", "env", "-json", "GOMODCACHE", "GOTOOLCHAIN", "GOPATH")
	cmd.Env, cmd.Dir = environ, "/"
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	want, err := parseGoEnv(out)
	if want.GOMODCACHE != " /spaced/value" {
		t.Fatalf("go env GOMODCACHE %q: this go reads env files differently", want.GOMODCACHE)
	}
	if err != nil {
		t.Fatal(err)
	}
	n := Native(EnvFrom(environ))
	if n.GOMODCACHE != want.GOMODCACHE || n.GOPATH != want.GOPATH {
		t.Errorf("native GOMODCACHE %q GOPATH %q, go env %q %q", n.GOMODCACHE, n.GOPATH, want.GOMODCACHE, want.GOPATH)
	}
	// go refuses the CR-terminated GOCACHE as it reads it: not absolute.
	if got := Native(EnvFrom(environ)).GOCACHE; got != "/srv/build\r" {
		t.Errorf("GOCACHE %q, want the value verbatim as go reads it", got)
	}
	// An empty GOTOOLCHAIN in the user's file hides $GOROOT/go.env's "auto".
	if n.GOTOOLCHAIN != want.GOTOOLCHAIN {
		t.Errorf("GOTOOLCHAIN %q, go env %q", n.GOTOOLCHAIN, want.GOTOOLCHAIN)
	}
}
