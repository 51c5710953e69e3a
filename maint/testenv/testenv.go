// Package testenv gives tests real prerequisites: root, mounts, a real go
// command filling real caches, and persistent (non-/tmp) directories. A
// missing prerequisite skips a test on a developer's machine and fails it
// when CI=true, so CI never passes by skipping.
package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// Need fails (CI) or skips (elsewhere) the test when ok is false.
func Need(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("missing prerequisite: %s", what)
	}
	t.Skipf("missing prerequisite: %s", what)
}

// Root needs the test to run as root.
func Root(t testing.TB) { t.Helper(); Need(t, os.Geteuid() == 0, "root (run the tests as root)") }

// Nobody returns the uid and gid of the real user "nobody", a second user
// every Debian system has.
func Nobody(t testing.TB) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup("nobody")
	Need(t, err == nil, "user nobody")
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// Command needs a program on PATH.
func Command(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Need(t, err == nil, name+" on PATH")
	return p
}

// base is where persistent test directories go: not under /tmp, /var/tmp
// or a tmpfs, so caches there are not "volatile" by construction.
func base() string {
	if os.Geteuid() == 0 {
		return "/var/cache/gomaint-test"
	}
	h, _ := os.UserHomeDir()
	return filepath.Join(h, ".cache", "gomaint-test")
}

// Dir returns a new directory on persistent storage, removed after the test.
func Dir(t testing.TB) string {
	t.Helper()
	if err := os.MkdirAll(base(), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := os.MkdirTemp(base(), "t-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { RemoveAll(t, d) })
	return d
}

// RemoveAll removes a tree that may hold read-only module directories.
func RemoveAll(t testing.TB, dir string) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// Mount mounts a file system of type fstype with options on a new directory
// under dir, and unmounts it after the test.
func Mount(t testing.TB, dir, fstype, source, options string) string {
	t.Helper()
	Root(t)
	mnt := filepath.Join(dir, "mnt-"+fstype)
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	flags := uintptr(0)
	if fstype == "" {
		flags = unix.MS_BIND
	}
	if err := unix.Mount(source, mnt, fstype, flags, options); err != nil {
		t.Fatalf("mount %s on %s: %v", fstype, mnt, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return mnt
}

// Run runs a command and fails the test when it fails.
func Run(t testing.TB, env []string, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = env, dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// telemetryOff writes Go's telemetry mode, off, for the configuration
// directory dir (os.UserConfigDir), as far as it can: a test whose dir
// cannot be written fails on its own.
func telemetryOff(dir string) {
	tdir := filepath.Join(dir, "go", "telemetry")
	if os.MkdirAll(tdir, 0o755) == nil {
		os.WriteFile(filepath.Join(tdir, "mode"), []byte("off\n"), 0o644)
	}
}

// GoHome returns a new home directory for the go command, removed after the
// test, with Go's telemetry off. Otherwise each go run in a fresh home
// starts a telemetry sidecar that outlives it and writes under
// .config/go/telemetry while the test's cleanup removes the directory.
func GoHome(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	telemetryOff(filepath.Join(home, ".config"))
	return home
}

// GoEnv is an environment for the go command with its caches under dir,
// which is its home. It turns Go's telemetry off there, for HOME and for an
// XDG_CONFIG_HOME of dir (telemetryOff): the tests that run go in it run
// gomaint, whose go env would otherwise leave a telemetry sidecar writing
// in dir while the test's cleanup removes it.
func GoEnv(dir string) []string {
	telemetryOff(filepath.Join(dir, ".config"))
	telemetryOff(dir)
	env := []string{
		"GOCACHE=" + filepath.Join(dir, "gocache"),
		"GOMODCACHE=" + filepath.Join(dir, "gomodcache"),
		"GOPATH=" + filepath.Join(dir, "gopath"),
		"GOTOOLCHAIN=local", "GOFLAGS=-mod=mod", "HOME=" + dir,
	}
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "PATH", "GOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GOROOT", "http_proxy", "https_proxy", "HTTPS_PROXY", "HTTP_PROXY":
			env = append(env, kv)
		}
	}
	return env
}

const modFile = `module example.com/gomainttest

go 1.22

require github.com/google/uuid v1.6.0
`

const mainFile = `package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() { fmt.Println(ID()) }

func ID() string { return uuid.NewString() }
`

const testFile = `package main

import "testing"

func TestID(t *testing.T) {
	if len(ID()) != 36 {
		t.Fatal("bad id")
	}
}
`

// Module writes a small module with one dependency into dir/src.
func Module(t testing.TB, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "src")
	for name, body := range map[string]string{"go.mod": modFile, "main.go": mainFile, "main_test.go": testFile} {
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

var (
	realOnce sync.Once
	realDir  string
	realErr  string
)

// RealCaches returns a directory holding gocache/ and gomodcache/ filled by
// real `go mod download`, `go build` and `go test` runs. They are made once
// per test binary and copied for each caller, who may change the copy.
func RealCaches(t testing.TB) string {
	t.Helper()
	Command(t, "go")
	realOnce.Do(func() {
		if err := os.MkdirAll(base(), 0o755); err != nil {
			realErr = err.Error()
			return
		}
		d, err := os.MkdirTemp(base(), "real-")
		if err != nil {
			realErr = err.Error()
			return
		}
		os.Chmod(d, 0o755)
		realDir = d
		env := GoEnv(d)
		src := Module(t, d)
		for _, args := range [][]string{{"mod", "tidy"}, {"mod", "download"}, {"build", "-o", os.DevNull, "."}, {"test", "."}} {
			cmd := exec.Command("go", args...)
			cmd.Env, cmd.Dir = env, src
			if out, err := cmd.CombinedOutput(); err != nil {
				realErr = "go " + strings.Join(args, " ") + ": " + err.Error() + "\n" + string(out)
				return
			}
		}
	})
	if realErr != "" {
		t.Fatalf("filling real caches: %s", realErr)
	}
	d := Dir(t)
	Run(t, nil, "", "cp", "-a", filepath.Join(realDir, "gocache"), filepath.Join(realDir, "gomodcache"), d)
	return d
}

// Cleanup removes what RealCaches made once; call it from TestMain.
func Cleanup() {
	if realDir != "" {
		filepath.WalkDir(realDir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(realDir)
	}
}
