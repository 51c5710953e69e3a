package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BuildCache fills dir with n pairs of build-cache entries in Go's layout:
// a 175-byte "<hex>-a" and an outSize-byte "<hex>-d" per pair, spread over
// the 256 shards, last used age ago. It returns the names, relative to dir.
func BuildCache(t testing.TB, dir string, n, outSize int, age time.Duration) []string {
	t.Helper()
	for i := 0; i < 256; i++ {
		if err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("%02x", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "README"), []byte("This directory holds cached build artifacts from the Go build system.\n"), 0o644)
	action := make([]byte, 175)
	out := make([]byte, outSize)
	when := time.Now().Add(-age)
	var names []string
	for i := 0; i < n; i++ {
		for _, suffix := range []string{"-a", "-d"} {
			id := make([]byte, 32)
			rand.Read(id)
			h := hex.EncodeToString(id)
			name := filepath.Join(h[:2], h+suffix)
			data := action
			if suffix == "-d" {
				data = out
			}
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if age != 0 {
				os.Chtimes(p, when, when)
			}
			names = append(names, name)
		}
	}
	return names
}

// StdModule writes a module into dir/src-NAME whose main imports pkgs,
// all of the standard library (nothing to download), with a test.
func StdModule(t testing.TB, dir, name string, pkgs ...string) string {
	t.Helper()
	src := filepath.Join(dir, "src-"+name)
	imports := "\t\"fmt\"\n"
	for _, p := range pkgs {
		imports += "\t_ \"" + p + "\"\n"
	}
	files := map[string]string{
		"go.mod":       "module example.com/" + name + "\n\ngo 1.22\n",
		"main.go":      "package main\n\nimport (\n" + imports + ")\n\nfunc main() { fmt.Println(Answer()) }\n\nfunc Answer() int { return 42 }\n",
		"main_test.go": "package main\n\nimport \"testing\"\n\nfunc TestAnswer(t *testing.T) {\n\tif Answer() != 42 {\n\t\tt.Fatal(Answer())\n\t}\n}\n",
	}
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// GoCacheRoot makes the root and shards of GoEnv(dir)'s GOCACHE, as go
// makes them at its first use, and returns its path.
func GoCacheRoot(t testing.TB, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "gocache")
	for i := 0; i < 256; i++ {
		if err := os.MkdirAll(filepath.Join(root, fmt.Sprintf("%02x", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// Backdate sets the mtime of every file under dir back by age, as if go
// had last used them then.
func Backdate(t testing.TB, dir string, age time.Duration) {
	t.Helper()
	when := time.Now().Add(-age)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chtimes(p, when, when)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a trim took it meanwhile
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
