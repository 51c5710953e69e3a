package goroot

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// copyGOROOT copies the GOROOT the tests run with (about 250 MB, a few
// seconds) to persistent storage: a go.dev tarball as users unpack it.
func copyGOROOT(t *testing.T) string {
	testenv.Command(t, "cp")
	dst := filepath.Join(testenv.Dir(t), "go")
	if out, err := exec.Command("cp", "-a", realGOROOT(t), dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	return dst
}

func verify(t *testing.T, root string, stateDirs ...string) Verification {
	t.Helper()
	v, err := Verify(context.Background(), root, stateDirs)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return v
}

// expect checks a verification's lists; a nil list means empty.
func expect(t *testing.T, step string, v Verification, changed []Change, added, removed []string) {
	t.Helper()
	if !reflect.DeepEqual(v.Changed, changed) || !reflect.DeepEqual(v.Added, added) || !reflect.DeepEqual(v.Removed, removed) {
		t.Fatalf("%s: changed %v, added %q, removed %q\nwant %v, %q, %q", step, v.Changed, v.Added, v.Removed, changed, added, removed)
	}
	if modified := changed != nil || added != nil || removed != nil; modified != (v.Code == Modified) || modified != (v.Fix != "") {
		t.Fatalf("%s: code %q, fix %q", step, v.Code, v.Fix)
	}
}

// swap changes a file for one step and puts it back: contents, mode and
// mtime.
func swap(t *testing.T, file string, change func()) func() {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Lstat(file)
	change()
	return func() {
		os.RemoveAll(file)
		if err := os.WriteFile(file, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
		os.Chmod(file, fi.Mode().Perm())
		os.Chtimes(file, fi.ModTime(), fi.ModTime())
	}
}

// TestVerifyRecordedGOROOT: a copy of a real go.dev GOROOT, recorded,
// verifies clean; one changed file, one removed and one added, a mode, a
// planted link out of the tree are each named, and nothing is followed
// through the link; a new VERSION asks for a new baseline instead.
func TestVerifyRecordedGOROOT(t *testing.T) {
	root := copyGOROOT(t)
	state := testenv.Dir(t)
	file, err := Record(context.Background(), root, state)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o644 || filepath.Dir(file) != filepath.Join(state, BaselineSubdir) {
		t.Fatalf("baseline %s: %v, %v", file, fi.Mode(), err)
	}
	v := verify(t, root, t.TempDir(), state) // a state directory without one is passed over
	expect(t, "as recorded", v, nil, nil, nil)
	if v.File != file || v.Baseline != BaselineRecords || v.Entries < 1000 {
		t.Errorf("%+v", v)
	}

	proc := filepath.Join(root, "src/runtime/proc.go")
	restore := swap(t, proc, func() {
		data, _ := os.ReadFile(proc)
		data[len(data)/2] ^= 1
		os.WriteFile(proc, data, 0o644)
	})
	v = verify(t, root, state)
	expect(t, "one byte changed", v, []Change{{"src/runtime/proc.go", "contents differ"}}, nil, nil)
	if !strings.Contains(v.Reason, "src/runtime/proc.go (contents differ)") || !strings.Contains(v.Reason, "1 changed, 0 added, 0 removed") {
		t.Errorf("reason %q", v.Reason)
	}
	restore()

	printGo := filepath.Join(root, "src/fmt/print.go")
	restore = swap(t, printGo, func() { os.Remove(printGo) })
	os.WriteFile(filepath.Join(root, "src/fmt/zz_extra.go"), []byte("package fmt\n"), 0o644)
	expect(t, "removed and added", verify(t, root, state), nil, []string{"src/fmt/zz_extra.go"}, []string{"src/fmt/print.go"})
	os.Remove(filepath.Join(root, "src/fmt/zz_extra.go"))
	restore()

	// Links out of the tree, a new one and one in place of a file: named,
	// never followed (nothing of /etc is listed).
	format := filepath.Join(root, "src/fmt/format.go")
	restore = swap(t, format, func() { os.Remove(format); os.Symlink("/etc/passwd", format) })
	os.Symlink("/etc", filepath.Join(root, "src/evil"))
	os.Chmod(filepath.Join(root, "src/fmt/scan.go"), 0o666)
	v = verify(t, root, state)
	expect(t, "links out", v, []Change{
		{"src/fmt/format.go", "now a symbolic link, was a file"},
		{"src/fmt/scan.go", "mode 0666, was 0644"},
	}, []string{"src/evil"}, nil)
	os.Remove(filepath.Join(root, "src/evil"))
	os.Chmod(filepath.Join(root, "src/fmt/scan.go"), 0o644)
	restore()
	expect(t, "restored", verify(t, root, state), nil, nil, nil)

	// An upgrade: no false alarm, a request to record anew.
	os.WriteFile(filepath.Join(root, "VERSION"), []byte("go1.99.0\ntime 2030-01-01T00:00:00Z\n"), 0o644)
	var stale *StaleBaselineError
	if _, err := Verify(context.Background(), root, []string{state}); !errors.As(err, &stale) || stale.Current != "go1.99.0" ||
		!strings.Contains(err.Error(), "record anew: gomaint check goroot --record --goroot") {
		t.Errorf("after an upgrade: %v", err)
	}
	var none *NoBaselineError
	if _, err := Verify(context.Background(), root, []string{t.TempDir()}); !errors.As(err, &none) {
		t.Errorf("without a baseline: %v", err)
	}
	// A baseline others could have written is no baseline to trust.
	os.Chmod(file, 0o666)
	if _, err := Verify(context.Background(), root, []string{state}); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Errorf("a world-writable baseline: %v", err)
	}
}

// TestBaselineRoundTrips: names and link targets with any bytes read back
// as written.
func TestBaselineRoundTrips(t *testing.T) {
	root := filepath.Join(testenv.Dir(t), "go")
	odd := "a \"b\"\n\\c\xff"
	os.MkdirAll(filepath.Join(root, odd), 0o755)
	os.WriteFile(filepath.Join(root, "VERSION"), []byte("go1.26.0\n"), 0o644)
	os.WriteFile(filepath.Join(root, odd, odd), []byte("x"), 0o600)
	os.Symlink(odd, filepath.Join(root, "link "+odd))
	state := testenv.Dir(t)
	if _, err := Record(context.Background(), root, state); err != nil {
		t.Fatal(err)
	}
	expect(t, "odd names", verify(t, root, state), nil, nil, nil)
	os.Remove(filepath.Join(root, odd, odd))
	expect(t, "odd name removed", verify(t, root, state), nil, nil, []string{odd + "/" + odd})
}

// debianGOROOT is the GOROOT of Debian's golang-1.NN-go, which test.sh
// installs.
func debianGOROOT(t *testing.T) string {
	found, _ := filepath.Glob("/usr/lib/go-1.*")
	for _, dir := range found {
		if pkgs, err := dpkgOwners(dir); err == nil && len(pkgs) > 0 {
			return dir
		}
	}
	testenv.Need(t, false, "Debian's Go (apt-get install golang-1.19-go)")
	return ""
}

// TestVerifyDebianGOROOT: Debian's GOROOT, with its links into
// /usr/share, verifies against dpkg's md5sums with no finding; then a
// changed, a removed and an added file and a link planted out of the tree
// are named. dpkg's md5sums name absolute paths, so the real files are
// changed, and put back as they were after the test.
func TestVerifyDebianGOROOT(t *testing.T) {
	testenv.Root(t)
	root := debianGOROOT(t)
	v := verify(t, root)
	expect(t, "as installed", v, nil, nil, nil)
	if v.Baseline != BaselineDpkg || len(v.Packages) < 2 || v.Entries < 10000 {
		t.Fatalf("%s: %d entries from %v: the links into /usr/share were not followed", root, v.Entries, v.Packages)
	}
	if _, err := Record(context.Background(), root, t.TempDir()); err == nil || !strings.Contains(err.Error(), "Debian package") {
		t.Errorf("Record of a packaged GOROOT: %v", err)
	}

	doc := filepath.Join(root, "src/fmt/doc.go") // in /usr/share/go-1.NN, through the src link
	t.Cleanup(swap(t, doc, func() {
		f, _ := os.OpenFile(doc, os.O_WRONLY|os.O_APPEND, 0)
		f.WriteString("// changed\n")
		f.Close()
	}))
	gone := filepath.Join(root, "src/errors/errors.go")
	t.Cleanup(swap(t, gone, func() { os.Remove(gone) }))
	extra := filepath.Join(root, "pkg/zz-extra")
	t.Cleanup(func() { os.Remove(extra); os.Remove(filepath.Join(root, "zz-evil")) })
	os.WriteFile(extra, []byte("x"), 0o644)
	os.Symlink("/etc", filepath.Join(root, "zz-evil"))
	v = verify(t, root)
	expect(t, "changed", v, []Change{{"src/fmt/doc.go", "contents differ from dpkg's md5sum"}},
		[]string{"pkg/zz-extra", "zz-evil"}, []string{"src/errors/errors.go"})
}
