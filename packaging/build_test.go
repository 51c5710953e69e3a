// The build script: what it prints, the version it derives from git and
// the versions it refuses.

package packaging

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestBuildPrintsPackagePaths(t *testing.T) {
	paths := packages(t)
	want := map[string]string{
		"deb/amd64": "gomaint_" + testVersion + "_amd64.deb",
		"deb/arm64": "gomaint_" + testVersion + "_arm64.deb",
		"rpm/amd64": "gomaint-" + testVersion + "-1.x86_64.rpm",
		"rpm/arm64": "gomaint-" + testVersion + "-1.aarch64.rpm",
	}
	for k, name := range want {
		p := paths[k]
		if p != filepath.Join(build.dir, name) {
			t.Errorf("%s: build.sh printed %q, want %s in GOMAINT_DIST", k, p, name)
			continue
		}
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}

// TestVersionFromGit: without GOMAINT_VERSION, one named package is built
// with the version derived from git, stamped in the package and binary.
func TestVersionFromGit(t *testing.T) {
	packages(t) // nfpm and the binaries are built and cached by now
	dir := t.TempDir()
	out, stderr, err := run(nil, "", "./build.sh", "GOMAINT_DIST="+dir, "GOMAINT_VERSION=", "deb", "amd64")
	if err != nil {
		t.Fatalf("build.sh deb amd64: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("build.sh deb amd64 printed %q: want one path", out)
	}
	m := regexp.MustCompile(`/gomaint_(.+)_amd64\.deb$`).FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("path %q", lines[0])
	}
	version := m[1]
	// No tag: 0.0.0~gitYYYYMMDD.HASH; a tag vX.Y.Z: X.Y.Z, X.Y.Z+N.gHASH after it.
	if !regexp.MustCompile(`^(0\.0\.0~git\d{8}\.[0-9a-f]{7,}|\d[0-9A-Za-z.~]*(\+\d+\.g[0-9a-f]+)?)(\.dirty)?$`).MatchString(version) {
		t.Errorf("version from git %q", version)
	}
	head := strings.TrimSpace(must(t, "git", "rev-parse", "--short", "HEAD"))
	if strings.HasPrefix(version, "0.0.0~git") && !strings.Contains(version, "."+head) {
		t.Errorf("version %q does not name commit %s", version, head)
	}
	if got := strings.TrimSpace(must(t, "dpkg-deb", "-f", lines[0], "Version")); got != version {
		t.Errorf("Version field %q, file name says %q", got, version)
	}
	root := extractDeb(t, lines[0])
	if got := must(t, filepath.Join(root, "usr/bin/gomaint"), "version"); got != "gomaint "+version+"\n" {
		t.Errorf("gomaint version: %q", got)
	}
}

func TestBuildRejectsBadVersion(t *testing.T) {
	for _, v := range []string{"1.0-1", "v1.0", "1.0 beta"} {
		out, stderr, err := run(nil, "", "./build.sh", "GOMAINT_DIST="+t.TempDir(), "GOMAINT_VERSION="+v, "deb", "amd64")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || out != "" {
			t.Errorf("GOMAINT_VERSION=%q: err %v, stdout %q, stderr %q", v, err, out, stderr)
		}
	}
}
