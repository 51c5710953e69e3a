//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// goCacheREADME is what the go command writes into a new build cache.
const goCacheREADME = `This directory holds cached build artifacts from the Go build system.
Run "go clean -cache" if the directory is getting too large.
Run "go clean -fuzzcache" to delete the fuzz cache.
See golang.org to learn more about Go.
`

// buildEntry is one fake build cache entry: an action file <id>-a of
// exactly 175 bytes naming an output file <out>-d, as cmd/go/internal/cache
// lays them out.
type buildEntry struct {
	action, output string // paths relative to the cache root
	lastUsed       time.Time
}

// plantBuildCache fills the build cache at dir (a host path) with n entries
// whose outputs have dataSize bytes, last used age(i) ago. It adds the
// README, trim.txt and the 256 shard directories as go would.
func plantBuildCache(dir, seed string, n, dataSize int, age func(i int) time.Duration) ([]buildEntry, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for i := 0; i < 256; i++ {
		if err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("%02x", i)), 0o777); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte(goCacheREADME), 0o666); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "trim.txt"), []byte(fmt.Sprintf("%d\n", time.Now().Unix())), 0o666); err != nil {
		return nil, err
	}
	data := make([]byte, dataSize)
	var planted []buildEntry
	for i := 0; i < n; i++ {
		a := sha256.Sum256([]byte(fmt.Sprintf("%s action %d", seed, i)))
		o := sha256.Sum256([]byte(fmt.Sprintf("%s output %d", seed, i)))
		copy(data, o[:])
		used := time.Now().Add(-age(i))
		e := buildEntry{
			action:   filepath.Join(hex.EncodeToString(a[:1]), hex.EncodeToString(a[:])+"-a"),
			output:   filepath.Join(hex.EncodeToString(o[:1]), hex.EncodeToString(o[:])+"-d"),
			lastUsed: used,
		}
		// The action entry: "v1 <action> <output> <size> <time>\n", 175 bytes.
		line := fmt.Sprintf("v1 %x %x %20d %20d\n", a, o, dataSize, used.UnixNano())
		if len(line) != 175 {
			return nil, fmt.Errorf("action entry of %d bytes", len(line))
		}
		if err := os.WriteFile(filepath.Join(dir, e.output), data, 0o666); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, e.action), []byte(line), 0o666); err != nil {
			return nil, err
		}
		for _, p := range []string{e.output, e.action} {
			if err := os.Chtimes(filepath.Join(dir, p), used, used); err != nil {
				return nil, err
			}
		}
		planted = append(planted, e)
	}
	return planted, nil
}

// snapshot lists every entry under dir (a host path) with its type and
// size, to compare a tree before and after something that must not touch it.
func snapshot(dir string) (map[string]string, error) {
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		m[rel] = fmt.Sprintf("%v %d", info.Mode().Type(), info.Size())
		return nil
	})
	return m, err
}

// diffSnapshots says what is missing from after or new in it.
func diffSnapshots(before, after map[string]string) string {
	var missing, changed []string
	for k, v := range before {
		w, ok := after[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case v != w:
			changed = append(changed, k+" ("+v+" -> "+w+")")
		}
	}
	sort.Strings(missing)
	sort.Strings(changed)
	var b strings.Builder
	if len(missing) > 0 {
		fmt.Fprintf(&b, "%d entries gone, e.g. %s\n", len(missing), strings.Join(first(missing, 5), ", "))
	}
	if len(changed) > 0 {
		fmt.Fprintf(&b, "%d entries changed, e.g. %s\n", len(changed), strings.Join(first(changed, 5), ", "))
	}
	return b.String()
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
