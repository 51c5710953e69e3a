package watch

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
)

// modCache makes a module cache in dir holding versions ("path@version",
// the path escaped as on disk) as go leaves them: the download files in
// cache/download/<path>/@v and the extracted tree.
func modCache(t *testing.T, dir string, versions ...string) string {
	t.Helper()
	cache := filepath.Join(dir, "gomodcache")
	for _, v := range versions {
		path, ver, _ := strings.Cut(v, "@")
		atV := filepath.Join(cache, "cache", "download", path, "@v")
		for _, d := range []string{atV, filepath.Join(cache, v)} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		files := map[string]string{filepath.Join(cache, v, "go.mod"): "module " + path + "\n"}
		for _, ext := range []string{".info", ".mod", ".zip", ".ziphash", ".lock"} {
			files[filepath.Join(atV, ver+ext)] = ext + "\n"
		}
		for p, body := range files {
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return cache
}

// openModules opens a Modules watch on cache; run also starts Run. The
// watch is closed after the test if the test did not close it.
func openModules(t *testing.T, cache string, run bool) *Modules {
	t.Helper()
	root, err := safefs.OpenRoot(cache)
	if err != nil {
		t.Fatal(err)
	}
	m, err := OpenModules(root)
	if err != nil {
		root.Close()
		t.Fatal(err)
	}
	if run {
		go m.Run()
	}
	t.Cleanup(func() {
		m.Close()
		root.Close()
	})
	return m
}

func readFile(t *testing.T, p string) {
	t.Helper()
	if _, err := os.ReadFile(p); err != nil {
		t.Fatal(err)
	}
}

// TestModulesGoBuild: a warm `go build` of a program that imports
// github.com/BurntSushi/toml from a module that also requires
// golang.org/x/mod, with a module downloaded meanwhile into directories
// that did not exist when the watch began: the watch records toml and the
// download, not x/mod, and watches the new directories.
func TestModulesGoBuild(t *testing.T) {
	cache, src, env := testenv.ModCache(t)
	main := "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/BurntSushi/toml\"\n)\n\n" +
		"func main() { var v map[string]any; fmt.Println(toml.Unmarshal([]byte(\"a = 1\"), &v)) }\n"
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, env, src, "go", "build", "-o", os.DevNull, ".") // the build cache made warm

	m := openModules(t, cache, true)
	before := m.Watches()
	testenv.Run(t, env, src, "go", "build", "-o", os.DevNull, ".")
	// Outside any module, so that go loads no other module's graph.
	var outside []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GOFLAGS=") {
			outside = append(outside, kv)
		}
	}
	testenv.Run(t, append(outside, "GOFLAGS=-modcacherw"), testenv.Dir(t), "go", "mod", "download", "github.com/google/uuid@v1.6.0")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	const uuid = "github.com/google/uuid@v1.6.0"
	if got, want := m.Used(), []string{testenv.ModTomlDir, uuid}; !slices.Equal(got, want) {
		t.Errorf("Used() = %q, want %q", got, want)
	}
	if err := m.Incomplete(); err != nil {
		t.Errorf("Incomplete() = %v", err)
	}
	// cache/download/github.com/google, .../uuid and .../uuid/@v.
	if after := m.Watches(); after != before+3 {
		t.Errorf("%d directories watched after the download, %d before; want 3 more", after, before)
	}
}

// TestModulesCloseDrains: what was opened just before Close is recorded,
// with Run going or never started.
func TestModulesCloseDrains(t *testing.T) {
	cache := modCache(t, t.TempDir(), "example.com/m@v1.0.0")
	for i := range 20 {
		m := openModules(t, cache, i%2 == 0)
		readFile(t, filepath.Join(cache, "cache/download/example.com/m/@v/v1.0.0.mod"))
		m.Close()
		if got := m.Used(); !slices.Equal(got, []string{"example.com/m@v1.0.0"}) {
			t.Fatalf("round %d (Run started: %v): Used() = %q after Close", i, i%2 == 0, got)
		}
	}
}

// TestModulesWhatCounts: a version's .info, .mod, .zip and .ziphash
// record it; its .lock and .partial (gomaint's own prune opens them), the
// @v list and the extracted tree do not; sumdb is not watched.
func TestModulesWhatCounts(t *testing.T) {
	vs := []string{"example.com/info@v1.0.0", "example.com/mod@v1.0.0", "example.com/zip@v1.0.0",
		"example.com/ziphash@v1.0.0", "example.com/lock@v1.0.0", "example.com/tree@v1.0.0"}
	cache := modCache(t, t.TempDir(), vs...)
	sumdb := filepath.Join(cache, "cache/download/sumdb/sum.golang.org/lookup")
	if err := os.MkdirAll(sumdb, 0o755); err != nil {
		t.Fatal(err)
	}
	m := openModules(t, cache, true)
	for _, p := range []string{"info/@v/v1.0.0.info", "mod/@v/v1.0.0.mod", "zip/@v/v1.0.0.zip", "ziphash/@v/v1.0.0.ziphash", "lock/@v/v1.0.0.lock"} {
		readFile(t, filepath.Join(cache, "cache/download/example.com", p))
	}
	os.WriteFile(filepath.Join(cache, "cache/download/example.com/lock/@v/v1.0.0.partial"), nil, 0o644)
	os.WriteFile(filepath.Join(cache, "cache/download/example.com/lock/@v/list"), []byte("v1.0.0\n"), 0o644)
	readFile(t, filepath.Join(cache, "example.com/tree@v1.0.0/go.mod"))
	os.MkdirAll(filepath.Join(sumdb, "x"), 0o755)
	m.Close()
	if got, want := m.Used(), vs[:4]; !slices.Equal(got, want) {
		t.Errorf("Used() = %q, want %q", got, want)
	}
	// The root, cache, download, example.com, 6 module directories and
	// their @v: no sumdb.
	if n := m.Watches(); n != 4+2*len(vs) {
		t.Errorf("%d directories watched, want %d", n, 4+2*len(vs))
	}
}

// TestModulesCacheMadeDuringRun: a module cache empty when the watch
// begins (a first CI run) gets cache/download made during the run, all at
// once; what it holds is recorded, and later opens too.
func TestModulesCacheMadeDuringRun(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "gomodcache")
	os.Mkdir(cache, 0o755)
	m := openModules(t, cache, true)
	tmp := modCache(t, t.TempDir(), "example.com/a@v1.0.0", "example.com/b@v1.0.0")
	// cache/ moved in whole, as if made before the watch could see it.
	if err := os.Rename(filepath.Join(tmp, "cache"), filepath.Join(cache, "cache")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the moved-in versions are recorded", func() bool { return len(m.Used()) == 2 })
	modCache(t, filepath.Dir(cache), "example.com/c@v1.0.0")
	m.Close()
	if got := m.Used(); !slices.Equal(got, []string{"example.com/a@v1.0.0", "example.com/b@v1.0.0", "example.com/c@v1.0.0"}) {
		t.Errorf("Used() = %q", got)
	}
	if err := m.Incomplete(); err != nil {
		t.Errorf("Incomplete() = %v", err)
	}
}

// TestModulesMovedIncomplete: a watched directory moved during the run
// makes the record incomplete: the names below it changed.
func TestModulesMovedIncomplete(t *testing.T) {
	cache := modCache(t, t.TempDir(), "example.com/m@v1.0.0")
	m := openModules(t, cache, true)
	dl := filepath.Join(cache, "cache/download")
	if err := os.Rename(filepath.Join(dl, "example.com"), filepath.Join(dl, "example.org")); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if err := m.Incomplete(); err == nil || !strings.Contains(err.Error(), "was moved during the run") {
		t.Errorf("Incomplete() = %v, want the move named", err)
	}
}

// TestModulesRootGone: Run ends with ErrRootGone when the module cache is
// moved away, and the record says it is incomplete.
func TestModulesRootGone(t *testing.T) {
	cache := modCache(t, t.TempDir(), "example.com/m@v1.0.0")
	root, err := safefs.OpenRoot(cache)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	m, err := OpenModules(root)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	done := make(chan error, 1)
	go func() { done <- m.Run() }()
	if err := os.Rename(cache, cache+".old"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrRootGone) || !errors.Is(m.Incomplete(), ErrRootGone) {
			t.Errorf("Run() = %v, Incomplete() = %v; want ErrRootGone", err, m.Incomplete())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run goes on after the root went")
	}
}

// TestModulesOverflow: when the kernel's queue overflows, the record is
// incomplete (ErrEventsLost), and what was read before still counts.
func TestModulesOverflow(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Fatal(err)
	}
	queue, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || queue > 1<<20 {
		testenv.Need(t, false, "fs.inotify.max_queued_events at most 1048576 (it is "+string(b)+")")
	}
	cache := modCache(t, t.TempDir(), "example.com/m@v1.0.0")
	m := openModules(t, cache, false) // nothing read: the queue fills
	p := filepath.Join(cache, "cache/download/example.com/m/@v/v1.0.0.mod")
	for range queue/2 + 1 { // an open and a close each
		fd, err := unix.Open(p, unix.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
	}
	m.Close()
	if err := m.Incomplete(); !errors.Is(err, ErrEventsLost) {
		t.Errorf("Incomplete() = %v, want ErrEventsLost", err)
	}
	if got := m.Used(); !slices.Equal(got, []string{"example.com/m@v1.0.0"}) {
		t.Errorf("Used() = %q", got)
	}
}

// TestModulesLimitUserNamespace: when fs.inotify.max_user_watches runs
// out (a limit of 5 in a user namespace of our own), the watch says so
// with a *LimitError and lets go of every watch it had, leaving the
// user's budget to other programs; it does not crash.
func TestModulesLimitUserNamespace(t *testing.T) {
	if !userNamespace(t) {
		return
	}
	cache := modCache(t, t.TempDir(), "example.com/a@v1.0.0", "example.com/b@v1.0.0", "example.com/c@v1.0.0")
	setWatchLimit(t, "5")
	m := openModules(t, cache, true)
	var l *LimitError
	if err := m.Incomplete(); !errors.As(err, &l) || l.Limit != "fs.inotify.max_user_watches" || l.Dirs != 5 {
		t.Fatalf("Incomplete() = %v (%+v), want a LimitError naming fs.inotify.max_user_watches after 5 directories", err, l)
	}
	if n, k := m.Watches(), kernelWatches(t, m.file); n != 0 || k != 0 {
		t.Errorf("%d directories (kernel: %d watches) still watched after the limit ran out", n, k)
	}
	readFile(t, filepath.Join(cache, "cache/download/example.com/a/@v/v1.0.0.mod"))
	m.Close()
	if err := m.Incomplete(); !errors.As(err, &l) {
		t.Errorf("after Close: Incomplete() = %v", err)
	}
}

// TestModulesLinkNotFollowed: links an unprivileged user planted in the
// module cache root watches (their own cache under `sudo gomaint run`, or
// a shared one) are never followed: an @v directory replaced by a link to
// a directory of version files elsewhere, a module path directory that is
// a link to /etc, before the watch begins and during it. Nothing outside
// the cache is watched, and reads there record nothing.
func TestModulesLinkNotFollowed(t *testing.T) {
	dir := testenv.Dir(t)
	attacker := testenv.NewUser(t, "gmt-modw-att", dir)
	cache := modCache(t, dir, testenv.ModTomlDir)
	testenv.Run(t, nil, "", "chown", "-R", attacker.Name+":", cache)
	decoy := filepath.Join(dir, "decoy") // root's, outside the cache
	if err := os.Mkdir(decoy, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"v9.9.9.info", "v9.9.9.mod", "v9.9.9.zip"} {
		if err := os.WriteFile(filepath.Join(decoy, f), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dl := filepath.Join(cache, "cache/download")
	tomlAtV := filepath.Join(dl, "github.com/!burnt!sushi/toml/@v")
	attacker.Sh(t, "mv '"+tomlAtV+"' '"+tomlAtV+".real' && ln -s '"+decoy+"' '"+tomlAtV+"' && ln -s /etc '"+dl+"/etc.example'")

	m := openModules(t, cache, true)
	marker := 0
	// sync waits until the watch has handled every event before now: a
	// version made in a new chain of directories is recorded.
	sync := func() {
		t.Helper()
		marker++
		v := "marker.example/m" + strconv.Itoa(marker) + "@v1.0.0"
		attacker.Sh(t, "mkdir -p '"+dl+"/marker.example/m"+strconv.Itoa(marker)+"/@v' && echo x > '"+dl+"/marker.example/m"+strconv.Itoa(marker)+"/@v/v1.0.0.mod'")
		eventually(t, 5*time.Second, v+" recorded", func() bool { return slices.Contains(m.Used(), v) })
	}
	readFile(t, filepath.Join(tomlAtV, "v9.9.9.mod")) // through the link, as a go command would
	readFile(t, filepath.Join(dl, "etc.example/passwd"))
	attacker.Sh(t, "mkdir -p '"+dl+"/evil.example/m' && ln -s '"+decoy+"' '"+dl+"/evil.example/m/@v' && ln -s /etc '"+dl+"/evil.example/etc'")
	sync()
	readFile(t, filepath.Join(dl, "evil.example/m/@v/v9.9.9.info"))
	readFile(t, filepath.Join(dl, "evil.example/etc/passwd"))
	sync()

	for _, v := range m.Used() {
		if strings.HasSuffix(v, "@v9.9.9") || !strings.HasPrefix(v, "marker.example/") {
			t.Errorf("%s recorded: a link was followed", v)
		}
	}
	var outside []uint64
	for _, p := range []string{decoy, "/etc"} {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		outside = append(outside, st.Ino)
	}
	for _, ino := range watchedInodes(t, m.file) {
		if slices.Contains(outside, ino) {
			t.Errorf("inode %d outside the cache (%s or /etc) is watched", ino, decoy)
		}
	}
	if err := m.Incomplete(); err != nil {
		t.Errorf("Incomplete() = %v: a link not followed is no loss", err)
	}
}
