// Package packaging tests the .deb and .rpm files that build.sh makes, with
// the real tools that judge them: dpkg-deb, rpm, lintian, rpmlint,
// systemd-analyze, man, bash-completion and qemu-aarch64-static. The
// packages are built once per test run, into a temporary directory.
package packaging

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// testVersion has a '~' on purpose: it must survive both formats intact.
const testVersion = "1.2.3~test"

var arches = []string{"amd64", "arm64"}

var rpmArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

var build struct {
	once  sync.Once
	dir   string
	paths map[string]string // "deb/amd64" -> path
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// packages builds the four packages once and returns their paths by
// "FORMAT/ARCH".
func packages(t *testing.T) map[string]string {
	t.Helper()
	testenv.Command(t, "go")
	testenv.Command(t, "git")
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "gomaint-pkg-")
		if err != nil {
			build.err = err
			return
		}
		build.dir = dir
		out, stderr, err := run(nil, "", "./build.sh", "GOMAINT_DIST="+dir, "GOMAINT_VERSION="+testVersion)
		if err != nil {
			build.err = fmt.Errorf("build.sh: %v\n%s", err, stderr)
			return
		}
		build.paths = map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			switch {
			case strings.HasSuffix(line, "_amd64.deb"):
				build.paths["deb/amd64"] = line
			case strings.HasSuffix(line, "_arm64.deb"):
				build.paths["deb/arm64"] = line
			case strings.HasSuffix(line, ".x86_64.rpm"):
				build.paths["rpm/amd64"] = line
			case strings.HasSuffix(line, ".aarch64.rpm"):
				build.paths["rpm/arm64"] = line
			default:
				build.err = fmt.Errorf("build.sh printed %q on stdout: only package paths belong there", line)
				return
			}
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.paths
}

// run runs name with extra environment variables (KEY=VALUE in args before
// the first argument that has no '='), returning stdout and stderr apart.
func run(stdin io.Reader, dir, name string, args ...string) (string, string, error) {
	var env []string
	for len(args) > 0 && strings.Contains(args[0], "=") && !strings.HasPrefix(args[0], "-") {
		env, args = append(env, args[0]), args[1:]
	}
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdin = dir, stdin
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// must runs a command that has to succeed and returns its stdout.
func must(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, stderr, err := run(nil, "", name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr)
	}
	return out
}

func repoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
