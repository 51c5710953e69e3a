package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
