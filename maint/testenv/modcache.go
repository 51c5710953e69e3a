package testenv

import (
	"os"
	"path/filepath"
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
	modMain    = "module example.com/verifytest\n\ngo 1.22\n\nrequire (\n\tgolang.org/x/mod v0.43.0\n\tgithub.com/BurntSushi/toml v1.6.0\n)\n"
)

// ModCache fills a module cache with `go mod download` of real modules,
// writable (-modcacherw) so that tests can change it, and returns its
// path, a main module requiring them (for `go mod verify`) and the
// environment go ran with.
func ModCache(t testing.TB) (cache, src string, env []string) {
	t.Helper()
	Command(t, "go")
	d := Dir(t)
	for _, kv := range GoEnv(d) {
		if !strings.HasPrefix(kv, "GOFLAGS=") {
			env = append(env, kv)
		}
	}
	env = append(env, "GOFLAGS=-mod=mod -modcacherw")
	src = filepath.Join(d, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(modMain), 0o644); err != nil {
		t.Fatal(err)
	}
	Run(t, env, src, "go", "mod", "download", "golang.org/x/mod", "github.com/BurntSushi/toml")
	return filepath.Join(d, "gomodcache"), src, env
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
