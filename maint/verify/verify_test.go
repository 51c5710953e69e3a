package verify

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
)

const (
	xmod      = testenv.ModXMod
	toml      = testenv.ModToml
	tomlDir   = testenv.ModTomlDir
	tomlAtV   = "cache/download/github.com/!burnt!sushi/toml/@v/v1.6.0"
	nVersions = 2
)

func check(t *testing.T, cache string, opt Options) (*CacheResult, []Finding) {
	t.Helper()
	root, err := safefs.OpenRoot(cache)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	res, fs, err := Cache(context.Background(), root, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res, fs
}

// goModVerify runs `go mod verify`; ok is whether it found all modules
// verified.
func goModVerify(t *testing.T, src string, env []string) (string, bool) {
	cmd := exec.Command("go", "mod", "verify")
	cmd.Dir, cmd.Env = src, env
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// only asserts exactly one finding, with this code, for this module.
func only(t *testing.T, fs []Finding, code, module string) Finding {
	t.Helper()
	if len(fs) != 1 || fs[0].Code.String() != code || fs[0].Module != module {
		t.Fatalf("want one %s for %s, got %+v", code, module, fs)
	}
	if !strings.Contains(fs[0].Fix, "go mod download "+module) || !strings.Contains(fs[0].Fix, "flock ") {
		t.Errorf("the fix does not remove and re-download that one version under go's lock: %s", fs[0].Fix)
	}
	return fs[0]
}

func TestCleanCacheVerifies(t *testing.T) {
	cache, src, env := testenv.ModCache(t)
	res, fs := check(t, cache, Options{})
	if len(fs) != 0 || res.Versions != nVersions || res.Hashed != nVersions {
		t.Fatalf("a cache go just filled: %+v, findings %+v", res, fs)
	}
	if out, ok := goModVerify(t, src, env); !ok {
		t.Fatalf("go mod verify disagrees: %s", out)
	}
}

func TestOneByteChanged(t *testing.T) {
	cache, src, env := testenv.ModCache(t)
	testenv.FlipByte(t, filepath.Join(cache, tomlDir, "decode.go"))
	_, fs := check(t, cache, Options{})
	f := only(t, fs, "MODULE_MODIFIED", toml)
	if !slices.Equal(f.Files, []string{"decode.go"}) || f.Path != tomlDir {
		t.Errorf("the finding names %v in %s, want decode.go in %s", f.Files, f.Path, tomlDir)
	}
	if out, ok := goModVerify(t, src, env); ok || !strings.Contains(out, "github.com/BurntSushi/toml v1.6.0") {
		t.Errorf("go mod verify does not agree that toml changed: %s", out)
	}
}

func TestFileRemovedOrAdded(t *testing.T) {
	for name, change := range map[string]func(dir string) error{
		"removed": func(dir string) error { return os.Remove(filepath.Join(dir, "decode.go")) },
		"added": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "zz_extra.go"), []byte("package toml\n"), 0o644)
		},
	} {
		t.Run(name, func(t *testing.T) {
			cache, _, _ := testenv.ModCache(t)
			if err := change(filepath.Join(cache, tomlDir)); err != nil {
				t.Fatal(err)
			}
			_, fs := check(t, cache, Options{})
			f := only(t, fs, "MODULE_MODIFIED", toml)
			want := map[string]string{"removed": "decode.go", "added": "zz_extra.go"}[name]
			if !slices.Equal(f.Files, []string{want}) {
				t.Errorf("names %v, want %s", f.Files, want)
			}
		})
	}
}

func TestBadZip(t *testing.T) {
	for name, change := range map[string]func(zip string) error{
		"truncated": func(zip string) error {
			st, err := os.Stat(zip)
			if err != nil {
				return err
			}
			return os.Truncate(zip, st.Size()/2)
		},
		"garbage": func(zip string) error { return os.WriteFile(zip, []byte("not a zip"), 0o644) },
	} {
		t.Run(name, func(t *testing.T) {
			cache, _, _ := testenv.ModCache(t)
			if err := change(filepath.Join(cache, tomlAtV+".zip")); err != nil {
				t.Fatal(err)
			}
			_, fs := check(t, cache, Options{})
			only(t, fs, "MODULE_ZIP_CORRUPT", toml) // the extracted tree still matches
		})
	}
}

func TestZiphash(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		cache, _, _ := testenv.ModCache(t)
		if err := os.Remove(filepath.Join(cache, tomlAtV+".ziphash")); err != nil {
			t.Fatal(err)
		}
		_, fs := check(t, cache, Options{})
		if f := only(t, fs, "MODULE_UNVERIFIABLE", toml); f.Severity.String() != "info" {
			t.Errorf("severity %s, want info", f.Severity)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		cache, _, _ := testenv.ModCache(t)
		if err := os.WriteFile(filepath.Join(cache, tomlAtV+".ziphash"), []byte("h1:\x00\xff garbage\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, fs := check(t, cache, Options{})
		only(t, fs, "MODULE_ZIP_CORRUPT", toml)
	})
}

// TestLinksNotFollowed: a link planted in a module directory is a
// finding, and is not followed: decode.go is replaced by a link to an
// exact copy outside the cache, which would make the hash match if it
// were followed, and a link to /dev/zero would never end.
func TestLinksNotFollowed(t *testing.T) {
	cache, _, _ := testenv.ModCache(t)
	dir := filepath.Join(cache, tomlDir)
	outside := filepath.Join(filepath.Dir(cache), "decode.go")
	if err := os.Rename(filepath.Join(dir, "decode.go"), outside); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{"decode.go": outside, "zero.go": "/dev/zero"} {
		if err := os.Symlink(to, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	// and a directory swapped for a link to a copy of itself
	internal := filepath.Join(dir, "internal")
	if err := os.Rename(internal, internal+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("internal.real", internal); err != nil {
		t.Fatal(err)
	}
	_, fs := check(t, cache, Options{})
	f := only(t, fs, "MODULE_UNREADABLE", toml)
	for _, want := range []string{"decode.go: a symbolic link", "zero.go: a symbolic link", "internal: a symbolic link"} {
		if !strings.Contains(f.Detail, want) {
			t.Errorf("the finding does not say %q: %s", want, f.Detail)
		}
	}
}

// TestIncremental: a second run hashes nothing, a version whose file was
// touched is hashed again, and Full hashes every version.
func TestIncremental(t *testing.T) {
	cache, _, _ := testenv.ModCache(t)
	first, _ := check(t, cache, Options{})
	again, fs := check(t, cache, Options{Known: first.Verified})
	if again.Hashed != 0 || again.Unchanged != nVersions || len(fs) != 0 {
		t.Fatalf("second run: %+v, %v", again, fs)
	}
	now := time.Now()
	if err := os.Chtimes(filepath.Join(cache, tomlDir, "decode.go"), now, now); err != nil {
		t.Fatal(err)
	}
	touched, _ := check(t, cache, Options{Known: again.Verified})
	if touched.Hashed != 1 || touched.Unchanged != nVersions-1 {
		t.Errorf("after a touch: %+v, want one version hashed", touched)
	}
	full, _ := check(t, cache, Options{Known: touched.Verified, Full: true})
	if full.Hashed != nVersions {
		t.Errorf("full: %+v, want every version hashed", full)
	}
}

// TestBusyLeftForNextRun: a version with a .partial, or whose .lock a go
// command holds, is counted busy, not judged, and not remembered as
// verified, so the next run reads it.
func TestBusyLeftForNextRun(t *testing.T) {
	for name, busy := range map[string]func(t *testing.T, base string) func(){
		"partial": func(t *testing.T, base string) func() {
			if err := os.WriteFile(base+".partial", nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return func() { os.Remove(base + ".partial") }
		},
		"lock held": func(t *testing.T, base string) func() {
			f, err := os.OpenFile(base+".lock", os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
				t.Fatal(err)
			}
			return func() { f.Close() }
		},
	} {
		t.Run(name, func(t *testing.T) {
			cache, _, _ := testenv.ModCache(t)
			if err := os.Remove(filepath.Join(cache, tomlDir, "decode.go")); err != nil { // would be MODULE_MODIFIED
				t.Fatal(err)
			}
			release := busy(t, filepath.Join(cache, tomlAtV))
			res, fs := check(t, cache, Options{})
			if res.Busy != 1 || res.Hashed != nVersions-1 || len(fs) != 0 {
				t.Fatalf("busy version: %+v, findings %+v", res, fs)
			}
			if _, ok := res.Verified[tomlDir]; ok {
				t.Fatal("a busy version is remembered as verified")
			}
			release()
			next, fs := check(t, cache, Options{Known: res.Verified})
			if next.Busy != 0 || next.Hashed != 1 {
				t.Errorf("next run: %+v, want the version hashed", next)
			}
			only(t, fs, "MODULE_MODIFIED", toml)
		})
	}
}

// TestBadlyEscapedName: a directory named like a module version that go
// could not have made (an upper-case letter, which go escapes as !x), and
// a .mod of the same name, are one MODULE_UNREADABLE finding naming it,
// not a crash or a guess, whose fix removes both.
func TestBadlyEscapedName(t *testing.T) {
	cache, _, _ := testenv.ModCache(t)
	bad := "github.com/BurntSushi/toml@v1.6.0"
	badMod := "cache/download/github.com/BurntSushi/toml/@v/v1.6.0.mod"
	if err := os.MkdirAll(filepath.Join(cache, bad), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Join(cache, badMod)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache, badMod), []byte("module github.com/BurntSushi/toml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, fs := check(t, cache, Options{})
	if len(fs) != 1 || fs[0].Code.String() != "MODULE_UNREADABLE" || fs[0].Path != bad || res.Hashed != nVersions {
		t.Fatalf("want one MODULE_UNREADABLE for %s, got %+v (%+v)", bad, fs, res)
	}
	if !strings.Contains(fs[0].Fix, filepath.Join(cache, badMod)) || !strings.Contains(fs[0].Fix, filepath.Join(cache, bad)+" ") {
		t.Errorf("the fix does not remove the directory and the .mod: %s", fs[0].Fix)
	}
}
