package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/dirhash"

	"github.com/gomaint/gomaint/maint/testenv"
)

// tomlRecord is where go keeps the checksum database's answer for toml,
// spelled out here so that a wrong escaping in the code fails the tests.
const tomlRecord = "cache/download/sumdb/sum.golang.org/lookup/github.com/!burnt!sushi/toml@v1.6.0"

// recordCache is testenv.ModCache, checked to hold the lookup records
// that go mod download keeps for public modules.
func recordCache(t *testing.T) string {
	t.Helper()
	cache, _, _ := testenv.ModCache(t)
	for _, rec := range []string{tomlRecord, "cache/download/sumdb/sum.golang.org/lookup/golang.org/x/mod@v0.43.0"} {
		if _, err := os.Stat(filepath.Join(cache, rec)); err != nil {
			t.Fatalf("go mod download kept no checksum database record: %v", err)
		}
	}
	return cache
}

// rewriteZiphash is the attacker who edits the cache: decode.go changed,
// and the .ziphash rewritten to the changed directory's hash, so that
// the directory matches its .ziphash.
func rewriteZiphash(t *testing.T, cache string) {
	t.Helper()
	dir := filepath.Join(cache, tomlDir)
	testenv.FlipByte(t, filepath.Join(dir, "decode.go"))
	h, err := dirhash.HashDir(dir, toml, dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache, tomlAtV+".ziphash"), []byte(h), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRecordCleanCache(t *testing.T) {
	cache := recordCache(t)
	res, fs := check(t, cache, Options{})
	if len(fs) != 0 || res.Hashed != nVersions {
		t.Fatalf("a cache go just filled, with its records: %+v, findings %+v", res, fs)
	}
}

// TestModChanged: one byte of a .mod is one MODULE_CHECKSUM_MISMATCH
// naming the version and the .mod, whose fix removes the .mod too.
func TestModChanged(t *testing.T) {
	cache := recordCache(t)
	testenv.FlipByte(t, filepath.Join(cache, tomlAtV+".mod"))
	_, fs := check(t, cache, Options{})
	f := only(t, fs, "MODULE_CHECKSUM_MISMATCH", toml)
	if !strings.Contains(f.Detail, tomlAtV+".mod hashes to ") || !strings.Contains(f.Detail, tomlRecord) {
		t.Errorf("the finding does not name the .mod and the record: %s", f.Detail)
	}
	if !strings.Contains(f.Fix, "v1.6.0.mod'") {
		t.Errorf("the fix leaves the changed .mod: %s", f.Fix)
	}
}

// TestZiphashRewritten: files changed and the .ziphash rewritten to
// match them verify against the .ziphash alone; the record catches both,
// and the files are judged against it (the zip, which still matches the
// record, names the changed file).
func TestZiphashRewritten(t *testing.T) {
	cache := recordCache(t)
	rewriteZiphash(t, cache)
	_, fs := check(t, cache, Options{})
	if len(fs) != 2 || fs[0].Code.String() != "MODULE_CHECKSUM_MISMATCH" || fs[1].Code.String() != "MODULE_MODIFIED" {
		t.Fatalf("want MODULE_CHECKSUM_MISMATCH and MODULE_MODIFIED, got %+v", fs)
	}
	for _, f := range fs {
		if f.Module != toml {
			t.Errorf("a finding for %s, want %s", f.Module, toml)
		}
	}
	if !strings.Contains(fs[0].Detail, "v1.6.0.ziphash says ") || len(fs[1].Files) != 1 || fs[1].Files[0] != "decode.go" {
		t.Errorf("the findings do not name the .ziphash and decode.go: %+v", fs)
	}
}

// TestNoRecord: without its record a version is checked as before: a
// changed .mod goes unseen, and a rewritten .ziphash with the zip gone
// too verifies. That is the limit the README states.
func TestNoRecord(t *testing.T) {
	cache := recordCache(t)
	if err := os.Remove(filepath.Join(cache, tomlRecord)); err != nil {
		t.Fatal(err)
	}
	if res, fs := check(t, cache, Options{}); len(fs) != 0 || res.Hashed != nVersions {
		t.Fatalf("no record: %+v, findings %+v", res, fs)
	}
	testenv.FlipByte(t, filepath.Join(cache, tomlAtV+".mod"))
	rewriteZiphash(t, cache)
	if err := os.Remove(filepath.Join(cache, tomlAtV+".zip")); err != nil {
		t.Fatal(err)
	}
	if _, fs := check(t, cache, Options{}); len(fs) != 0 {
		t.Fatalf("no record, nothing to check against, yet: %+v", fs)
	}
}

func TestBadRecord(t *testing.T) {
	cache := recordCache(t)
	if err := os.WriteFile(filepath.Join(cache, tomlRecord), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, fs := check(t, cache, Options{})
	if len(fs) != 1 || fs[0].Code.String() != "MODULE_CHECKSUM_MISMATCH" || !strings.Contains(fs[0].Fix, "rm -rf '"+cache+"/"+tomlRecord+"'") {
		t.Fatalf("want one MODULE_CHECKSUM_MISMATCH removing the record, got %+v", fs)
	}
}

// TestIncrementalSeesModAndRecord: the .mod and the record are in the
// fingerprint, so a change to either is read at the next incremental
// run, and nothing else is.
func TestIncrementalSeesModAndRecord(t *testing.T) {
	cache := recordCache(t)
	first, _ := check(t, cache, Options{})
	now := time.Now()
	if err := os.Chtimes(filepath.Join(cache, tomlRecord), now, now); err != nil {
		t.Fatal(err)
	}
	touched, fs := check(t, cache, Options{Known: first.Verified})
	if touched.Hashed != 1 || len(fs) != 0 {
		t.Fatalf("after touching a record: %+v, %+v; want one version hashed", touched, fs)
	}
	testenv.FlipByte(t, filepath.Join(cache, tomlAtV+".mod"))
	_, fs = check(t, cache, Options{Known: touched.Verified})
	only(t, fs, "MODULE_CHECKSUM_MISMATCH", toml)
}
