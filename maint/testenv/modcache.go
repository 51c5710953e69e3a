package testenv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The real modules ModCache downloads: golang.org/x/mod at the version in
// go.mod, and one whose path needs escaping (as module@version, and its
// extracted directory in the cache).
const (
	ModXMod    = "golang.org/x/mod@v0.43.0"
	ModToml    = "github.com/BurntSushi/toml@v1.6.0"
	ModTomlDir = "github.com/!burnt!sushi/toml@v1.6.0"
)

// ModCache fills a module cache with `go mod download` of real modules,
// writable (-modcacherw) so that tests can change it, and returns its
// path, a main module requiring them (for `go mod verify`) and the
// environment go ran with.
func ModCache(t testing.TB) (cache, src string, env []string) {
	t.Helper()
	cache = filepath.Join(Dir(t), "gomodcache")
	src, env = ModDownload(t, cache, nil, ModXMod, ModToml)
	return cache, src, env
}

// ModDownload has go download mods ("path@version") into the module
// cache at cache, writable (-modcacherw), from a new main module that
// requires them, with extra added to go's environment (GOSUMDB=off). It
// returns the main module's directory, for more go commands there, and
// the environment go ran with.
func ModDownload(t testing.TB, cache string, extra []string, mods ...string) (src string, env []string) {
	t.Helper()
	Command(t, "go")
	d := Dir(t)
	for _, kv := range GoEnv(d) {
		if !strings.HasPrefix(kv, "GOFLAGS=") && !strings.HasPrefix(kv, "GOMODCACHE=") {
			env = append(env, kv)
		}
	}
	env = append(env, "GOFLAGS=-mod=mod -modcacherw", "GOMODCACHE="+cache)
	env = append(env, extra...)
	gomod := "module example.com/verifytest\n\ngo 1.22\n\nrequire (\n"
	var paths []string
	for _, m := range mods {
		path, version, _ := strings.Cut(m, "@")
		gomod += "\t" + path + " " + version + "\n"
		paths = append(paths, path)
	}
	src = filepath.Join(d, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(gomod+")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Run(t, env, src, "go", append([]string{"mod", "download"}, paths...)...)
	return src, env
}

// FlipByte changes one bit in the middle of the file at p, as bit rot or
// an edit would, and returns what the file held before, to restore it.
func FlipByte(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	changed := append([]byte(nil), b...)
	changed[len(b)/2] ^= 1
	if err := os.WriteFile(p, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// Remembered lists the versions of the module cache at cache that the
// verification's state (verify.json) in dir holds as verified, sorted; it
// fails the test when the file is not a valid state.
func Remembered(t testing.TB, dir, cache string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "verify.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Version int                                   `json:"version"`
		Caches  map[string]map[string]json.RawMessage `json:"caches"`
	}
	if err := json.Unmarshal(data, &st); err != nil || st.Version != 1 {
		t.Fatalf("verify.json is not a valid state (%v): %s", err, data)
	}
	keys := make([]string, 0, len(st.Caches[cache]))
	for k := range st.Caches[cache] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
