package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// testify v1.8.4 requires four modules whose code its main package does
// not need: `go list -m all` loads the module graph, and go keeps only
// their .mod (with the checksum database's answers, unless GOSUMDB=off).
const (
	testify     = "github.com/stretchr/testify@v1.8.4"
	yamlModOnly = "gopkg.in/yaml.v3@v3.0.1"
	yamlMod     = "cache/download/gopkg.in/yaml.v3/@v/v3.0.1.mod"
	nModOnly    = 4
)

// graphCache is a module cache holding testify in full and only the .mod
// of the modules of its requirement graph, as go leaves it.
func graphCache(t *testing.T, extra ...string) string {
	t.Helper()
	cache := filepath.Join(testenv.Dir(t), "gomodcache")
	src, env := testenv.ModDownload(t, cache, extra, testify)
	testenv.Run(t, env, src, "go", "list", "-m", "all")
	return cache
}

// TestModOnlyVersions: versions of which go keeps only the .mod are
// listed and verified against the checksum database's answer go kept;
// they count as ok, and a later run skips them while unchanged. A .mod
// changed by one line is MODULE_CHECKSUM_MISMATCH for exactly that
// version.
func TestModOnlyVersions(t *testing.T) {
	cache := graphCache(t)
	res, fs := check(t, cache, Options{})
	if len(fs) != 0 || res.Versions != 1+nModOnly || res.ModOnly != nModOnly || res.Hashed != 1+nModOnly || res.Unchecked != 0 {
		t.Fatalf("a cache go filled with a module graph: %+v, findings %+v", res, fs)
	}
	if _, ok := res.Verified["gopkg.in/yaml.v3@v3.0.1"]; !ok || len(res.Verified) != 1+nModOnly {
		t.Errorf("verified %v, want every version, the .mod-only ones too", res.Verified)
	}
	rep := &Report{Caches: []*CacheResult{res}}
	if n := rep.Counts(""); n["ok"] != 1+nModOnly || n["unchecked"] != 0 {
		t.Errorf("counts %v", n)
	}
	again, fs := check(t, cache, Options{Known: res.Verified})
	if len(fs) != 0 || again.Hashed != 0 || again.Unchanged != 1+nModOnly {
		t.Errorf("nothing changed, the second run: %+v, findings %+v", again, fs)
	}

	p := filepath.Join(cache, yamlMod)
	os.Chmod(p, 0o644)
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("require example.com/evil v1.0.0\n")
	f.Close()
	changed, fs := check(t, cache, Options{Known: again.Verified})
	if len(fs) != 1 || fs[0].Code.String() != "MODULE_CHECKSUM_MISMATCH" || fs[0].Module != yamlModOnly ||
		!strings.Contains(fs[0].Detail, yamlMod) || changed.Hashed != 1 {
		t.Fatalf("a changed .mod of a .mod-only version: %+v, findings %+v", changed, fs)
	}
	if !strings.Contains(fs[0].Fix, "go mod download "+yamlModOnly) || !strings.Contains(fs[0].Fix, "v3.0.1.mod") {
		t.Errorf("the fix does not remove the .mod and download it again: %s", fs[0].Fix)
	}
}

// TestModOnlyUnchecked: without the checksum database (GOSUMDB=off) go
// records no checksum of a .mod-only version: nothing to check, so no
// finding, and they count as unchecked, not as verified.
func TestModOnlyUnchecked(t *testing.T) {
	cache := graphCache(t, "GOSUMDB=off")
	if _, err := os.Stat(filepath.Join(cache, sumdbDir)); err == nil {
		t.Fatalf("GOSUMDB=off, yet go kept answers in %s", sumdbDir)
	}
	res, fs := check(t, cache, Options{})
	if len(fs) != 0 || res.Versions != 1+nModOnly || res.ModOnly != nModOnly || res.Unchecked != nModOnly || res.Hashed != 1 {
		t.Fatalf("%+v, findings %+v", res, fs)
	}
	rep := &Report{Caches: []*CacheResult{res}}
	if n := rep.Counts(""); n["ok"] != 1 || n["unchecked"] != nModOnly {
		t.Errorf("counts %v, want testify ok and the rest unchecked", n)
	}
}
