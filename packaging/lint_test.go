// The distributions' package linters, lintian and rpmlint, with every
// override justified in a comment.

package packaging

import (
	"errors"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// justified reads an override or filter file and fails for any entry that
// has no comment right above it (its own, or its group's).
func justified(t *testing.T, rel string, isEntry func(string) bool) []string {
	t.Helper()
	var entries []string
	commented := false
	for _, line := range strings.Split(string(repoFile(t, rel)), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#"):
			commented = true
		case line == "":
			commented = false
		case isEntry(line):
			if !commented {
				t.Errorf("%s: %q has no comment saying why", rel, line)
			}
			entries = append(entries, line)
		}
	}
	return entries
}

func TestLintian(t *testing.T) {
	testenv.Command(t, "lintian")
	paths := packages(t)
	overrides := justified(t, "packaging/lintian-overrides", func(string) bool { return true })
	out, stderr, err := run(nil, "", "lintian", "--pedantic", "-I", "-E", "--show-overrides", paths["deb/amd64"], paths["deb/arm64"])
	// Exit status 2 means tags were shown: with --show-overrides, also
	// overridden ones. Which tags they are is checked below.
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 2) {
		t.Errorf("lintian: %v\n%s", err, stderr)
	}
	t.Logf("lintian:\n%s", out)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		tag := f[2]
		switch {
		case strings.HasPrefix(line, "E: "):
			t.Errorf("lintian error: %s", line)
		case strings.HasPrefix(line, "O: "):
			found := false
			for _, o := range overrides {
				found = found || strings.HasPrefix(o, "gomaint: "+tag)
			}
			if !found {
				t.Errorf("override not in packaging/lintian-overrides: %s", line)
			}
		}
		if strings.Contains(tag, "override") { // unused-, mismatched-, malformed-override
			t.Errorf("lintian: %s", line)
		}
	}
	if strings.Contains(stderr, "rror") {
		t.Errorf("lintian stderr: %s", stderr)
	}
}

func TestRpmlint(t *testing.T) {
	testenv.Command(t, "rpmlint")
	testenv.Command(t, "cpio")
	testenv.Command(t, "rpm")
	paths := packages(t)
	justified(t, "packaging/gomaint.rpmlintrc", func(l string) bool { return strings.HasPrefix(l, "addFilter(") })
	// rpmlint unpacks with cpio; the package's files must land in its
	// directory, not over the host's.
	list := strings.Fields(must(t, "rpm", "-qp", "--list", paths["rpm/amd64"]))
	existed := map[string]bool{}
	for _, p := range list {
		_, err := os.Lstat(p)
		existed[p] = err == nil
	}
	out, stderr, err := run(nil, "", "./rpmlint.sh", paths["rpm/amd64"], paths["rpm/arm64"])
	t.Logf("rpmlint:\n%s%s", out, stderr)
	if err != nil {
		t.Errorf("rpmlint: %v", err)
	}
	if !strings.Contains(out, "2 packages and 0 specfiles checked; 0 errors") {
		t.Errorf("rpmlint found errors")
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, ": E: ") {
			t.Errorf("rpmlint error: %s", line)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(list))) // files before their directories
	for _, p := range list {
		if _, err := os.Lstat(p); err == nil && !existed[p] {
			os.Remove(p)
			t.Errorf("rpmlint wrote %s onto the host", p)
		}
	}
}
