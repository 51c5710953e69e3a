package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/testenv"
)

const modTomlAtV = "cache/download/github.com/!burnt!sushi/toml/@v/v1.6.0"

// modifiedCache is a real module cache with one byte of toml's decode.go
// changed, a --system configuration for it (remove_modified as given) and
// the environment gomaint and go run with.
func modifiedCache(t *testing.T, remove bool) (cache, src, conf string, goEnv, env []string) {
	t.Helper()
	testenv.Root(t)
	cache, src, goEnv = testenv.ModCache(t)
	testenv.FlipByte(t, filepath.Join(cache, testenv.ModTomlDir, "decode.go"))
	conf = writeConfig(t, fmt.Sprintf("[[target]]\nname = \"mod\"\nkind = \"mod\"\npath = %q\nremove_modified = %v\n", cache, remove))
	return cache, src, conf, goEnv, []string{"STATE_DIRECTORY=" + testenv.Dir(t)}
}

// files lists every entry under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var all []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		all = append(all, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// removeLines are the dry run's JSON lines that remove a module version.
func removeLines(t *testing.T, stdout string) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		if m["what"] == "remove" {
			s := map[string]string{}
			for k, v := range m {
				s[k], _ = v.(string)
			}
			out = append(out, s)
		}
	}
	return out
}

// TestFixRemovesModified: with remove_modified, fix --dry-run lists exactly
// the changed version and removes nothing; fix removes exactly its
// extracted tree, .zip and .ziphash (.info, .mod and .lock stay, as a
// clean leaves them), journals it and says how to fetch it again; verify
// then has no finding, and go's download brings back a version that
// verifies.
func TestFixRemovesModified(t *testing.T) {
	cache, src, conf, goEnv, env := modifiedCache(t, true)
	before := files(t, cache)

	r := gomaint(t, env, "fix", "--system", "--config", conf, "--dry-run", "--json", "--log", "none")
	rm := removeLines(t, r.stdout)
	if len(rm) != 1 || rm[0]["path"] != testenv.ModTomlDir || rm[0]["module"] != testenv.ModToml || rm[0]["from"] != "MODULE_MODIFIED" ||
		!strings.Contains(rm[0]["refetch"], "go mod download "+testenv.ModToml) {
		t.Fatalf("dry run lists %+v, want only %s\n%s\n%s", rm, testenv.ModTomlDir, r.stdout, r.stderr)
	}
	if after := files(t, cache); !slices.Equal(before, after) {
		t.Fatalf("the dry run changed the cache's entries")
	}
	state := strings.TrimPrefix(env[0], "STATE_DIRECTORY=")
	if _, err := os.Stat(filepath.Join(state, "verify.json")); err == nil {
		t.Errorf("the dry run wrote verify.json: a dry run writes no file")
	}

	r = gomaint(t, env, "fix", "--system", "--config", conf, "--log", "stderr")
	if !strings.Contains(r.stdout, "removed "+testenv.ModToml+" (MODULE_MODIFIED); fetch it again: ") ||
		!strings.Contains(r.stdout, "go mod download "+testenv.ModToml) {
		t.Errorf("fix does not say what it removed and how to fetch it:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, `REMOVED_MODULES="`+testenv.ModToml+`"`) {
		t.Errorf("the REPAIR event does not name the version:\n%s", r.stderr)
	}
	after := files(t, cache)
	var gone []string
	for _, p := range before {
		if !slices.Contains(after, p) {
			gone = append(gone, p)
		}
	}
	for _, p := range gone {
		if p != testenv.ModTomlDir && !strings.HasPrefix(p, testenv.ModTomlDir+"/") && p != modTomlAtV+".zip" && p != modTomlAtV+".ziphash" {
			t.Errorf("fix removed %s", p)
		}
	}
	for _, p := range []string{testenv.ModTomlDir, modTomlAtV + ".zip", modTomlAtV + ".ziphash"} {
		if slices.Contains(after, p) {
			t.Errorf("%s is still there", p)
		}
	}
	if len(after) != len(before)-len(gone) {
		t.Errorf("fix added entries: %d before, %d removed, %d after", len(before), len(gone), len(after))
	}

	rep, r := verifyRun(t, env, "--system", "--config", conf)
	if r.code != exitOK || len(rep.Findings) != 0 {
		t.Fatalf("verify after fix: exit %d, %+v", r.code, rep.Findings)
	}
	testenv.Run(t, goEnv, src, "go", "mod", "download", testenv.ModToml)
	rep, r = verifyRun(t, env, "--system", "--config", conf)
	if r.code != exitOK || len(rep.Findings) != 0 || rep.Caches[0].Versions != 2 {
		t.Fatalf("verify after go mod download: exit %d, %+v %+v", r.code, rep.Caches, rep.Findings)
	}
}

// TestFixModifiedKeyOff: without remove_modified, fix leaves the changed
// version and names the key.
func TestFixModifiedKeyOff(t *testing.T) {
	cache, _, conf, _, env := modifiedCache(t, false)
	r := gomaint(t, env, "fix", "--system", "--config", conf, "--dry-run", "--json", "--log", "none")
	if rm := removeLines(t, r.stdout); len(rm) != 0 {
		t.Errorf("dry run lists %+v", rm)
	}
	r = gomaint(t, env, "fix", "--system", "--config", conf, "--log", "none")
	if !strings.Contains(r.stdout, "remove_modified is false") {
		t.Errorf("fix does not name the key:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(cache, testenv.ModTomlDir, "decode.go")); err != nil {
		t.Errorf("fix removed the version: %v", err)
	}
}

// TestFixModifiedLockHeld: a version whose .lock a go command holds is
// neither judged nor removed, and fix says so and exits 1.
func TestFixModifiedLockHeld(t *testing.T) {
	cache, _, conf, _, env := modifiedCache(t, true)
	lock, err := os.OpenFile(filepath.Join(cache, modTomlAtV+".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{true, false} {
		args := []string{"fix", "--system", "--config", conf, "--log", "none"}
		if dry {
			args = append(args, "--dry-run")
		}
		r := gomaint(t, env, args...)
		if r.code != exitFindings || !strings.Contains(r.stdout, "1 module versions left unjudged: go holds their lock") {
			t.Errorf("dry run %v: exit %d\n%s", dry, r.code, r.stdout)
		}
		if _, err := os.Stat(filepath.Join(cache, testenv.ModTomlDir, "decode.go")); err != nil {
			t.Fatalf("dry run %v removed the locked version: %v", dry, err)
		}
	}
}
