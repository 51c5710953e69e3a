package main

// Generators of caches shaped like the ones the go command writes (see
// maint/layout). File sizes are set with ftruncate, so files are sparse:
// generation is fast and takes little disk. Everything is seeded, so a
// given scale always gives the same trees.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const window = 60 * 24 * time.Hour // mtimes spread over the last 60 days

// tally counts what a generator made; gomaint's report must agree.
type tally struct {
	files, dirs, bytes atomic.Int64
	units              atomic.Int64 // module versions, or build cache entries
}

func (t *tally) mkdir(path string) error {
	if err := os.Mkdir(path, 0o755); err != nil {
		return err
	}
	t.dirs.Add(1)
	return nil
}

// file creates a file holding data, or else size bytes of sparse zeros.
// A zero mtime leaves the creation time.
func (t *tally) file(path string, size int64, data []byte, mode os.FileMode, mtime time.Time) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if data != nil {
		size = int64(len(data))
		_, err = f.Write(data)
	} else if size > 0 {
		err = f.Truncate(size)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && !mtime.IsZero() {
		err = os.Chtimes(path, mtime, mtime)
	}
	if err != nil {
		return err
	}
	t.files.Add(1)
	t.bytes.Add(size)
	return nil
}

// generate makes the module cache and the build cache under work/trees.
func (b *bench) generate(ctx context.Context) error {
	b.trees = filepath.Join(b.work, "trees")
	b.mod = filepath.Join(b.trees, "modcache")
	b.bld = filepath.Join(b.trees, "gocache")
	if err := os.Mkdir(b.trees, 0o755); err != nil {
		return err
	}
	start := time.Now()
	var err error
	if b.modT, err = modCache(ctx, b.mod, int(320*b.o.scale+0.5), b.o.workers, b.now); err != nil {
		return fmt.Errorf("generating the module cache: %v", err)
	}
	modTime := time.Since(start)
	if b.bldT, err = buildCache(ctx, b.bld, int(84000*b.o.scale+0.5), false, b.o.workers, b.now); err != nil {
		return fmt.Errorf("generating the build cache: %v", err)
	}
	m, c := b.modT, b.bldT
	fmt.Printf("generated both trees in %.1fs (module cache %.1fs), %d goroutines:\n",
		time.Since(start).Seconds(), modTime.Seconds(), b.o.workers)
	fmt.Printf("  module cache  %7d files %6d dirs (%.1f files/dir), %d module versions, %.1f MB\n",
		m.files.Load(), m.dirs.Load(), float64(m.files.Load())/float64(m.dirs.Load()), m.units.Load(), mb(m))
	fmt.Printf("  build cache   %7d files %6d dirs, %d entries, %.1f MB (sparse)\n",
		c.files.Load(), c.dirs.Load(), c.units.Load(), mb(c))
	return nil
}

func mb(t *tally) float64 { return float64(t.bytes.Load()) / 1e6 }

// Module paths are <host>/<org>/<repo>, mostly on github.com.
var hosts = []string{"github.com", "github.com", "github.com", "github.com", "github.com", "github.com",
	"golang.org", "google.golang.org", "gopkg.in", "go.uber.org", "k8s.io", "go.opentelemetry.io"}

var words = []string{"api", "auth", "cache", "client", "codec", "config", "core", "crypto", "data", "db",
	"encoding", "errors", "event", "flags", "format", "http", "internal", "io", "json", "log",
	"metrics", "net", "parser", "pool", "proto", "query", "render", "retry", "server", "sql",
	"store", "stream", "sync", "template", "text", "trace", "transport", "types", "util", "yaml"}

type module struct {
	host, org, repo string
	seed            uint64
	versions        []string
}

func newModule(i int) module {
	r := rand.New(rand.NewPCG(uint64(i), 1))
	m := module{host: hosts[r.IntN(len(hosts))], org: "x", seed: r.Uint64()}
	if m.host != "golang.org" {
		m.org = words[r.IntN(len(words))]
	}
	m.repo = fmt.Sprintf("%s%d", words[r.IntN(len(words))], i)
	major, minor := r.IntN(2), r.IntN(20)
	for v := range 2 + r.IntN(4) {
		m.versions = append(m.versions, fmt.Sprintf("v%d.%d.%d", major, minor+v, r.IntN(8)))
	}
	return m
}

// modCache generates a module cache of n modules with 2 to 5 versions each.
func modCache(ctx context.Context, root string, n, workers int, now time.Time) (*tally, error) {
	t := &tally{}
	dl := filepath.Join(root, "cache", "download")
	for _, d := range []string{root, filepath.Dir(dl), dl} {
		if err := t.mkdir(d); err != nil {
			return t, err
		}
	}
	if err := t.file(filepath.Join(root, "cache", "lock"), 0, nil, 0o644, now); err != nil {
		return t, err
	}
	// Path elements shared by several modules exist before the workers start.
	mods := make([]module, n) // a few hundred small structs
	made := map[string]bool{}
	for i := range mods {
		m := newModule(i)
		mods[i] = m
		for _, top := range []string{root, dl} {
			for _, d := range []string{filepath.Join(top, m.host), filepath.Join(top, m.host, m.org)} {
				if !made[d] {
					made[d] = true
					if err := t.mkdir(d); err != nil {
						return t, err
					}
				}
			}
		}
	}
	err := parallel(ctx, workers, n, func(i int) error { return t.module(root, mods[i], now) })
	return t, err
}

// module writes every version of m, extracted, and its download entries.
func (t *tally) module(root string, m module, now time.Time) error {
	r := rand.New(rand.NewPCG(m.seed, 1))
	dl := filepath.Join(root, "cache", "download", m.host, m.org, m.repo)
	if err := t.mkdir(dl); err != nil {
		return err
	}
	if err := t.mkdir(filepath.Join(dl, "@v")); err != nil {
		return err
	}
	var list int64
	var newest time.Time
	for _, v := range m.versions {
		when := now.Add(-time.Duration(r.Int64N(int64(window))))
		modSize, total, err := t.extract(filepath.Join(root, m.host, m.org, m.repo+"@"+v), m.seed, r, when)
		if err != nil {
			return err
		}
		at := filepath.Join(dl, "@v", v)
		for _, f := range []struct {
			ext  string
			size int64
		}{{".info", 50 + r.Int64N(40)}, {".mod", modSize}, {".zip", total * 3 / 10}, {".ziphash", 47}, {".lock", 0}} {
			if err := t.file(at+f.ext, f.size, nil, 0o644, when); err != nil {
				return err
			}
		}
		list += int64(len(v)) + 1
		if when.After(newest) {
			newest = when
		}
		t.units.Add(1)
	}
	return t.file(filepath.Join(dl, "@v", "list"), list, nil, 0o644, newest)
}

// extract writes one module version as go unpacks it: read-only files, and
// directories made read-only once filled. Every version of a module has the
// same package tree (drawn from seed); only sizes, drawn from r, differ.
func (t *tally) extract(vdir string, seed uint64, r *rand.Rand, when time.Time) (modSize, total int64, err error) {
	shape := rand.New(rand.NewPCG(seed, 2))
	if err := t.mkdir(vdir); err != nil {
		return 0, 0, err
	}
	dirs := []string{vdir}
	for want := 9 + shape.IntN(16); len(dirs) < want; {
		d := filepath.Join(dirs[shape.IntN(len(dirs))], words[shape.IntN(len(words))])
		if slices.Contains(dirs, d) {
			continue
		}
		if err := t.mkdir(d); err != nil {
			return 0, 0, err
		}
		dirs = append(dirs, d)
	}
	add := func(path string, size int64) error {
		total += size
		return t.file(path, size, nil, 0o444, when)
	}
	modSize = 60 + r.Int64N(2000)
	for _, f := range []struct {
		name string
		size int64
	}{{"go.mod", modSize}, {"LICENSE", 1000 + r.Int64N(10000)}, {"README.md", 500 + r.Int64N(20000)}} {
		if err := add(filepath.Join(vdir, f.name), f.size); err != nil {
			return 0, 0, err
		}
	}
	for _, d := range dirs {
		var names []string
		for range 1 + shape.IntN(7) {
			name := words[shape.IntN(len(words))]
			if shape.IntN(3) == 0 {
				name += "_test"
			}
			if name += ".go"; slices.Contains(names, name) {
				continue
			}
			names = append(names, name)
			if err := add(filepath.Join(d, name), logUniform(r, 200, 30000)); err != nil {
				return 0, 0, err
			}
		}
	}
	for _, d := range slices.Backward(dirs) {
		if err := os.Chmod(d, 0o555); err != nil {
			return 0, 0, err
		}
	}
	return modSize, total, nil
}

// buildCache generates a build cache of n entries: the 256 shards, each
// holding the <hex>-a action entries and <hex>-d outputs whose names start
// with its own two hex digits. An action entry is the 175-byte line go
// writes, naming its output and the output's size. With empty, every entry
// is an empty file with the current mtime, to make a big tree quickly.
func buildCache(ctx context.Context, root string, n int, empty bool, workers int, now time.Time) (*tally, error) {
	t := &tally{}
	if err := t.mkdir(root); err != nil {
		return t, err
	}
	for i := range 256 {
		if err := t.mkdir(filepath.Join(root, fmt.Sprintf("%02x", i))); err != nil {
			return t, err
		}
	}
	for name, size := range map[string]int64{"README": 187, "trim.txt": 11} {
		if err := t.file(filepath.Join(root, name), size, nil, 0o644, now); err != nil {
			return t, err
		}
	}
	// Entries come in pairs (action, output), in chunks of pairs per job.
	const chunk = 1000
	pairs := (n + 1) / 2
	err := parallel(ctx, workers, (pairs+chunk-1)/chunk, func(c int) error {
		r := rand.New(rand.NewPCG(uint64(c), 3))
		for p := c * chunk; p < min(pairs, (c+1)*chunk); p++ {
			action, output := entryID('a', p), entryID('d', p)
			var size int64
			var when time.Time
			var line []byte
			if !empty {
				size = logUniform(r, 300, 4<<20)
				when = now.Add(-time.Duration(r.Int64N(int64(window))))
				line = fmt.Appendf(nil, "v1 %x %x %20d %20d\n", action, output, size, when.UnixNano())
				if len(line) != 175 {
					return fmt.Errorf("action entry of %d bytes, want 175", len(line))
				}
			}
			if err := t.file(entryPath(root, action, 'a'), 0, line, 0o644, when); err != nil {
				return err
			}
			t.units.Add(1)
			if 2*p+1 < n {
				if err := t.file(entryPath(root, output, 'd'), size, nil, 0o644, when); err != nil {
					return err
				}
				t.units.Add(1)
			}
		}
		return nil
	})
	return t, err
}

// entryID is a stand-in for the SHA-256 hashes go names entries by.
func entryID(kind byte, i int) [32]byte {
	var b [9]byte
	b[0] = kind
	binary.LittleEndian.PutUint64(b[1:], uint64(i))
	return sha256.Sum256(b[:])
}

func entryPath(root string, id [32]byte, kind byte) string {
	h := hex.EncodeToString(id[:])
	return filepath.Join(root, h[:2], h+"-"+string(kind))
}

// logUniform spreads sizes evenly over orders of magnitude, like real files.
func logUniform(r *rand.Rand, lo, hi float64) int64 {
	return int64(math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo))))
}

// parallel calls f(0), ..., f(n-1) on up to workers goroutines and returns
// the first error; after one, no new calls start.
func parallel(ctx context.Context, workers, n int, f func(i int) error) error {
	var (
		next  atomic.Int64
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return first != nil }
	for range min(workers, n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && !failed(); i = int(next.Add(1) - 1) {
				err := ctx.Err()
				if err == nil {
					err = f(i)
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
