package trim

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
)

const tomlAtV = "cache/download/github.com/!burnt!sushi/toml/@v/v1.6.0"

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// TestRemoveVersion: in a cache go made, one named version goes (its
// tree, .zip and .ziphash; .info, .mod and .lock stay, as a clean leaves
// them) and nothing else; a dry run and a held lock remove nothing.
func TestRemoveVersion(t *testing.T) {
	cache, _, _ := testenv.ModCache(t)
	root, err := safefs.OpenRoot(cache)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	gone := []string{testenv.ModTomlDir, tomlAtV + ".zip", tomlAtV + ".ziphash"}
	kept := []string{tomlAtV + ".info", tomlAtV + ".mod", "golang.org/x/mod@v0.43.0", "cache/download/golang.org/x/mod/@v/v0.43.0.zip"}

	lock, err := os.OpenFile(filepath.Join(cache, tomlAtV+".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{true, false} {
		res, err := RemoveVersion(root, testenv.ModTomlDir, Options{DryRun: dry})
		if err != nil || res.Skipped != 1 || res.Versions != 0 {
			t.Errorf("dry run %v with go's lock held: %+v, %v; want it skipped", dry, res, err)
		}
	}
	lock.Close()

	var listed []Removal
	res, err := RemoveVersion(root, testenv.ModTomlDir, Options{DryRun: true, Removed: func(r Removal) { listed = append(listed, r) }})
	if err != nil || res.Versions != 1 || len(listed) != 1 || listed[0].Path != testenv.ModTomlDir || listed[0].Files == 0 {
		t.Fatalf("dry run: %+v %+v, %v", res, listed, err)
	}
	for _, p := range gone {
		if !exists(filepath.Join(cache, p)) {
			t.Fatalf("the dry run removed %s", p)
		}
	}
	res, err = RemoveVersion(root, testenv.ModTomlDir, Options{})
	if err != nil || res.Versions != 1 || res.Failed != 0 {
		t.Fatalf("removal: %+v, %v", res, err)
	}
	for _, p := range gone {
		if exists(filepath.Join(cache, p)) {
			t.Errorf("%s is still there", p)
		}
	}
	for _, p := range append(kept, tomlAtV+".lock") {
		if !exists(filepath.Join(cache, p)) {
			t.Errorf("%s was removed", p)
		}
	}
	if exists(filepath.Join(cache, tomlAtV+".partial")) {
		t.Error(".partial left behind")
	}
	if _, err := RemoveVersion(root, "no-version-here", Options{}); err == nil {
		t.Error("a name without @version was accepted")
	}
}
