package repair

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
	"github.com/gomaint/gomaint/maint/trim"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}

func nobody(t *testing.T) (uint32, uint32) {
	uid, gid := testenv.Nobody(t)
	return uint32(uid), uint32(gid)
}

func fix(t *testing.T, dir string, build bool, owner, group uint32) *Result {
	t.Helper()
	root, err := safefs.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	res, err := Fix(context.Background(), root, Options{Build: build, Owner: owner, Group: group})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func stat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSudoLeftovers: after `sudo go build`, root-owned entries and a
// root-owned 0644 trim.txt in a user's cache are given back, and module
// sources stay read-only.
func TestSudoLeftovers(t *testing.T) {
	testenv.Root(t)
	uid, gid := nobody(t)
	dir := testenv.RealCaches(t)
	build, mod := filepath.Join(dir, "gocache"), filepath.Join(dir, "gomodcache")
	testenv.Run(t, nil, "", "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), dir)
	os.Chown(filepath.Join(build, "trim.txt"), 0, 0)
	os.Chmod(filepath.Join(build, "trim.txt"), 0o444)
	os.Chown(filepath.Join(build, "0a"), 0, 0)
	os.Chmod(filepath.Join(build, "0a"), 0o755)
	res := fix(t, build, true, uid, gid)
	if res.Owners != 2 || res.Modes != 1 {
		t.Errorf("build: %+v", res)
	}
	for _, p := range []string{"trim.txt", "0a"} {
		if st := stat(t, filepath.Join(build, p)); st.Uid != uid || st.Mode&0o200 == 0 {
			t.Errorf("%s: uid %d mode %o", p, st.Uid, st.Mode&0o7777)
		}
	}
	// Module tree: a writable source file is made read-only again.
	src := filepath.Join(mod, "github.com", "google", "uuid@v1.6.0", "uuid.go")
	os.Chmod(filepath.Dir(src), 0o755)
	os.Chmod(src, 0o644)
	res = fix(t, mod, false, uid, gid)
	if st := stat(t, src); st.Mode&0o7777 != 0o444 {
		t.Errorf("module source mode %o", st.Mode&0o7777)
	}
	if st := stat(t, filepath.Dir(src)); st.Mode&0o7777 != 0o555 {
		t.Errorf("module dir mode %o", st.Mode&0o7777)
	}
	if res.Modes != 2 {
		t.Errorf("mod: %+v", res)
	}
	// A second run finds nothing to do.
	if res := fix(t, build, true, uid, gid); res.Owners+res.Modes != 0 {
		t.Errorf("not idempotent: %+v", res)
	}
}

// outsideFile makes a root-owned 0600 file outside the cache and returns a
// check that it is unchanged.
func outsideFile(t *testing.T) (string, func()) {
	p := filepath.Join(testenv.Dir(t), "secret")
	os.WriteFile(p, []byte("outside"), 0o600)
	before := stat(t, p)
	return p, func() {
		t.Helper()
		after := stat(t, p)
		data, _ := os.ReadFile(p)
		if after.Uid != before.Uid || after.Mode != before.Mode || string(data) != "outside" {
			t.Errorf("outside file changed: uid %d->%d mode %o->%o data %q", before.Uid, after.Uid, before.Mode, after.Mode, data)
		}
	}
}

// TestAdversarial: links, hard links, bind mounts, odd names and a deep
// tree inside a cache. Nothing outside changes after fix and clean, and
// every one of them is reported.
func TestAdversarial(t *testing.T) {
	testenv.Root(t)
	uid, gid := nobody(t)
	dir := testenv.RealCaches(t)
	build := filepath.Join(dir, "gocache")
	secret, unchanged := outsideFile(t)
	outsideDir := filepath.Join(testenv.Dir(t), "dir")
	os.Mkdir(outsideDir, 0o700)
	os.WriteFile(filepath.Join(outsideDir, strings.Repeat("ab", 32)+"-a"), []byte("x"), 0o600)
	outDirBefore := stat(t, outsideDir)
	// The cache belongs to root; fix will give it to nobody.
	testenv.Run(t, nil, "", "chown", "-R", "0:0", build)

	// A symlink to the outside file, and a shard replaced by a symlink.
	os.Symlink(secret, filepath.Join(build, "3f", strings.Repeat("cd", 32)+"-d"))
	testenv.RemoveAll(t, filepath.Join(build, "4e"))
	os.Symlink(outsideDir, filepath.Join(build, "4e"))
	// A hard link to the outside file (same file system).
	hard := filepath.Join(build, "5d", strings.Repeat("ef", 32)+"-d")
	if err := os.Link(secret, hard); err != nil {
		t.Fatal(err)
	}
	// A bind mount of the outside directory.
	testenv.Mount(t, filepath.Join(build, "6c"), "", outsideDir, "")
	// Odd names.
	for _, n := range []string{"new\nline", "bad\xff", strings.Repeat("n", 255)} {
		os.WriteFile(filepath.Join(build, "7b", n), []byte("x"), 0o666)
	}
	// A 10,000-deep tree under the fuzz dir.
	deep := filepath.Join(build, "fuzz")
	fd, _ := unix.Open(deep, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CREAT, 0)
	if fd < 0 {
		os.Mkdir(deep, 0o755)
		fd, _ = unix.Open(deep, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	}
	for i := 0; i < 10000; i++ {
		unix.Mkdirat(fd, "d", 0o755)
		next, err := unix.Openat(fd, "d", unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
		fd = next
	}
	unix.Close(fd)

	res := fix(t, build, true, uid, gid)
	unchanged()
	if st := stat(t, outsideDir); st.Uid != outDirBefore.Uid || st.Mode != outDirBefore.Mode {
		t.Errorf("outside dir changed")
	}
	if res.Hardlinked.Count != 1 || !strings.HasSuffix(res.Hardlinked.Paths[0], "-d") {
		t.Errorf("hard link not reported: %+v", res.Hardlinked)
	}
	if res.Mounts.Count != 1 || res.TooDeep.Count != 1 || res.Links.Count != 2 {
		t.Errorf("mount %+v deep %+v links %+v", res.Mounts, res.TooDeep, res.Links)
	}
	for _, n := range []string{"new\nline", "bad\xff", strings.Repeat("n", 255)} {
		if st := stat(t, filepath.Join(build, "7b", n)); st.Mode&0o002 != 0 {
			t.Errorf("odd name %q still world-writable", n)
		}
	}

	// clean removes what is old; the outside file and directory stay.
	old := time.Now().Add(-48 * time.Hour)
	filepath.Walk(build, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && fi.Name() != "secret" {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	root, _ := safefs.OpenRoot(build)
	defer root.Close()
	tr, err := trim.Build(context.Background(), root, trim.Policy{MaxAge: 24 * time.Hour, MinAge: time.Hour}, trim.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	unchanged()
	if _, err := os.Stat(filepath.Join(outsideDir, strings.Repeat("ab", 32)+"-a")); err != nil {
		t.Errorf("clean removed a file behind a symlinked shard: %v", err)
	}
	if tr.Failed != 1 || !strings.Contains(tr.FirstError, "4e") {
		t.Logf("trim: %+v", tr) // the symlinked shard cannot be opened beneath the root
	}
	if _, err := os.Lstat(hard); err != nil {
		t.Logf("the hard link itself may go: %v", err)
	}
}

// TestRaceSwapDirForSymlink: while fix walks, another process swaps a
// directory for a symlink to outside again and again. The outside file
// never changes.
func TestRaceSwapDirForSymlink(t *testing.T) {
	testenv.Root(t)
	uid, gid := nobody(t)
	dir := testenv.RealCaches(t)
	build := filepath.Join(dir, "gocache")
	secretDir := filepath.Join(testenv.Dir(t), "outside")
	os.Mkdir(secretDir, 0o700)
	for i := 0; i < 50; i++ {
		os.WriteFile(filepath.Join(secretDir, fmt.Sprint(i)), []byte("outside"), 0o600)
	}
	victim := filepath.Join(build, "8a")
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			os.Rename(victim, victim+".real")
			os.Symlink(secretDir, victim)
			time.Sleep(50 * time.Microsecond)
			os.Remove(victim)
			os.Rename(victim+".real", victim)
		}
	}()
	for i := 0; i < 30; i++ {
		// Alternate owners so that every pass changes every entry.
		if i%2 == 0 {
			fix(t, build, true, uid, gid)
		} else {
			fix(t, build, true, 0, 0)
		}
	}
	stop.Store(true)
	wg.Wait()
	entries, _ := os.ReadDir(secretDir)
	for _, e := range entries {
		st := stat(t, filepath.Join(secretDir, e.Name()))
		if st.Uid != 0 || st.Mode&0o7777 != 0o600 {
			t.Fatalf("outside %s changed: uid %d mode %o", e.Name(), st.Uid, st.Mode&0o7777)
		}
	}
	if st := stat(t, secretDir); st.Uid != 0 || st.Mode&0o7777 != 0o700 {
		t.Fatalf("outside dir changed: uid %d mode %o", st.Uid, st.Mode&0o7777)
	}
}

// TestFullDisk: on a full file system, fix still repairs and clean still
// frees space.
func TestFullDisk(t *testing.T) {
	testenv.Root(t)
	uid, gid := nobody(t)
	mnt := testenv.Mount(t, testenv.Dir(t), "tmpfs", "tmpfs", "size=2m")
	cache := filepath.Join(mnt, "c")
	os.MkdirAll(filepath.Join(cache, "00"), 0o755)
	for i := 0; ; i++ {
		if err := os.WriteFile(filepath.Join(cache, "00", fmt.Sprintf("%064x-d", i)), make([]byte, 64<<10), 0o644); err != nil {
			break // full
		}
	}
	old := time.Now().Add(-72 * time.Hour)
	filepath.Walk(cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	if res := fix(t, cache, true, uid, gid); res.Owners == 0 || res.Failed.Count != 0 {
		t.Errorf("fix on a full disk: %+v", res)
	}
	root, _ := safefs.OpenRoot(cache)
	defer root.Close()
	tr, err := trim.Build(context.Background(), root, trim.Policy{MaxAge: 24 * time.Hour, MinAge: time.Hour}, trim.Options{Now: time.Now()})
	if err != nil || tr.Files == 0 || tr.Failed != 0 {
		t.Errorf("clean on a full disk: %+v %v", tr, err)
	}
}

// TestRunEvents: Run emits one REPAIR event per target and per-change
// detail at debug level.
func TestRunEvents(t *testing.T) {
	testenv.Root(t)
	uid, gid := nobody(t)
	dir := testenv.RealCaches(t)
	build := filepath.Join(dir, "gocache")
	testenv.Run(t, nil, "", "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), build)
	os.Chown(filepath.Join(build, "1f"), 0, 0)
	cfg := config.Default(config.System)
	cfg.Targets = cfg.Targets[:1]
	cfg.Targets[0].Path, cfg.Targets[0].Mode, cfg.Targets[0].Group = build, "private", ""
	sink := &journal.Memory{}
	out := Run(context.Background(), Request{Config: cfg, Environ: os.Environ(), Sink: sink, LockDir: filepath.Join(dir, "locks")})
	if len(out) != 1 || out[0].Owners != 1 || out[0].Owner != uid {
		t.Fatalf("%+v", out)
	}
	var summary, debug int
	for _, e := range sink.Snapshot() {
		if e.Type != journal.Repair {
			continue
		}
		if e.Priority == journal.Debug {
			debug++
		} else if e.Fields["GOMAINT_OWNERS"] == "1" {
			summary++
		}
	}
	if summary != 1 || debug != 1 {
		t.Errorf("summary %d debug %d events", summary, debug)
	}
}

// TestModeNoSpecialBits: fix never keeps or adds setuid, setgid or sticky
// on a file, and on a directory only the setgid a shared cache needs.
func TestModeNoSpecialBits(t *testing.T) {
	const file, dir = unix.S_IFREG, unix.S_IFDIR
	for _, tc := range []struct {
		typ, from uint32
		w         want
		shared    bool
		to        uint32
	}{
		{file, 0o4757, want{}, false, 0o755},
		{file, 0o6755, want{write: true}, false, 0o755},
		{file, 0o2755, want{}, true, 0o755},
		{file, 0o1644, want{readOnly: true}, false, 0o444},
		{dir, 0o7777, want{write: true}, false, 0o775},
		{dir, 0o7755, want{readOnly: true}, false, 0o555},
		{dir, 0o7777, want{write: true}, true, 0o2775},
		{dir, 0o0755, want{write: true}, true, 0o2775},
		{dir, 0o6555, want{readOnly: true}, true, 0o2555},
	} {
		st := unix.Statx_t{Mode: uint16(tc.typ | tc.from)}
		if got := mode(&st, tc.w, tc.shared); got != tc.to {
			t.Errorf("%o %04o %+v shared=%v: %04o; want %04o", tc.typ>>12, tc.from, tc.w, tc.shared, got, tc.to)
		}
	}
}
