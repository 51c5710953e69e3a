package goroot

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// rpmGOROOT installs, with the real rpm, a package holding a small Go
// root under /opt, and removes it when the test ends. rpm is Debian's
// here, whose database is otherwise empty.
func rpmGOROOT(t *testing.T) (root, pkg string) {
	testenv.Root(t)
	rpmbuild := testenv.Command(t, "rpmbuild")
	rpm := testenv.Command(t, "rpm")
	name := fmt.Sprintf("gomaint-test-goroot-%d", os.Getpid())
	root = "/opt/" + name + "/go"
	top := t.TempDir()
	src := filepath.Join(top, "tree")
	for rel, data := range map[string]string{"VERSION": "go1.99.0\ntime 2026-01-01\n", "bin/go": "#!/bin/sh\n", "src/fmt/print.go": "package fmt\n"} {
		p := filepath.Join(src, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(src, "bin/go"), 0o755)
	os.Symlink("fmt/print.go", filepath.Join(src, "src/print.go"))
	spec := filepath.Join(top, name+".spec")
	os.WriteFile(spec, []byte(fmt.Sprintf(`Name: %s
Version: 1
Release: 1
Summary: a Go root for gomaint's tests
License: Apache-2.0
BuildArch: noarch
%%description
A Go root for gomaint's tests.
%%install
mkdir -p %%{buildroot}/opt/%s
cp -a %s %%{buildroot}%s
%%files
/opt/%s
`, name, name, src, root, name)), 0o644)
	testenv.Run(t, nil, top, rpmbuild, "-bb", "--quiet", "--define", "_topdir "+top, "--define", "__os_install_post %{nil}", spec)
	rpms, _ := filepath.Glob(filepath.Join(top, "RPMS", "noarch", "*.rpm"))
	if len(rpms) != 1 {
		t.Fatalf("rpmbuild made %v", rpms)
	}
	testenv.Run(t, nil, "", rpm, "-i", "--nodeps", "--noscripts", rpms[0])
	t.Cleanup(func() {
		testenv.Run(t, nil, "", rpm, "-e", "--nodeps", "--noscripts", name)
		os.RemoveAll("/opt/" + name)
	})
	return root, name + "-1-1.noarch"
}

// TestVerifyRPM: a GOROOT an rpm installed is verified against rpm's own
// database with `rpm -V`: nothing as installed; then a changed file, a
// removed one and an added one, each named.
func TestVerifyRPM(t *testing.T) {
	root, pkg := rpmGOROOT(t)
	v := verify(t, root)
	if v.Baseline != BaselineRPM || len(v.Packages) != 1 || v.Packages[0] != pkg || v.Entries < 6 {
		t.Fatalf("verification %+v; want rpm's baseline of %s", v, pkg)
	}
	expect(t, "as installed", v, nil, nil, nil)

	restore := swap(t, filepath.Join(root, "src/fmt/print.go"), func() {
		os.WriteFile(filepath.Join(root, "src/fmt/print.go"), []byte("package fmt // changed\n"), 0o644)
	})
	os.Remove(filepath.Join(root, "bin/go"))
	os.WriteFile(filepath.Join(root, "src/fmt/extra.go"), nil, 0o644)
	v = verify(t, root)
	expect(t, "changed", v, []Change{{"src/fmt/print.go", "size, contents differ from the rpm database"}}, []string{"src/fmt/extra.go"}, []string{"bin/go"})
	restore()
}

// TestParseRPMVerify: the lines of `rpm -V` as rpm 4 prints them.
func TestParseRPMVerify(t *testing.T) {
	for line, want := range map[string][2]string{
		"S.5....T.    /usr/lib/golang/src/fmt/print.go":   {"S.5....T.", "/usr/lib/golang/src/fmt/print.go"},
		".M.......  c /etc/gomaint/gomaint.toml":          {".M.......", "/etc/gomaint/gomaint.toml"},
		"missing     /usr/lib/golang/bin/go":              {"missing", "/usr/lib/golang/bin/go"},
		"missing   d /usr/share/doc/golang/README.md":     {"missing", "/usr/share/doc/golang/README.md"},
		"Unsatisfied dependencies for golang-1.21: glibc": {"", ""},
	} {
		flags, file, ok := parseRPMVerify(line)
		if ok != (want[0] != "") || flags != want[0] || file != want[1] {
			t.Errorf("%q: %q %q %v, want %q %q", line, flags, file, ok, want[0], want[1])
		}
	}
}
