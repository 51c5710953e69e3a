package audit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.Cleanup()
	os.Exit(code)
}

// run audits explicit cache paths in the given scope and environment. As
// every audit test goes through it, it also holds each finding to its
// code's declared severities (metrics have zero samples for those only).
func run(t *testing.T, scope config.Scope, environ []string, targets ...config.Target) (*Report, *journal.Memory) {
	t.Helper()
	cfg := config.Default(scope)
	if len(targets) > 0 {
		cfg.Targets = targets
	}
	if environ == nil {
		environ = os.Environ()
	}
	sink := &journal.Memory{}
	r := Run(context.Background(), Request{Config: cfg, Environ: environ, Sink: sink})
	for _, f := range r.Findings {
		if !f.Code.Allows(f.Severity) {
			t.Errorf("%s finding with severity %s, outside its declaration %+v", f.Code, f.Severity, f.Code.Decl())
		}
	}
	return r, sink
}

func tgt(name string, kind config.Kind, path string) config.Target {
	t := config.Default(config.User).Targets[0]
	t.Name, t.Kind, t.Path = name, kind, path
	return t
}

func caches(dir string) []config.Target {
	return []config.Target{tgt("build", config.Build, filepath.Join(dir, "gocache")), tgt("mod", config.Mod, filepath.Join(dir, "gomodcache"))}
}

// codes lists the findings by code, for assertions.
func codes(r *Report) map[string][]Finding {
	m := map[string][]Finding{}
	for _, f := range r.Findings {
		m[f.Code.String()] = append(m[f.Code.String()], f)
	}
	return m
}

func must(t *testing.T, r *Report, code string) Finding {
	t.Helper()
	fs := codes(r)[code]
	if len(fs) == 0 {
		t.Fatalf("no %s finding; findings: %+v", code, r.Findings)
	}
	f := fs[0]
	if f.Fix == "" || f.Detail == "" || f.Severity < finding.Info {
		t.Errorf("%s finding lacks detail or fix: %+v", code, f)
	}
	return f
}

func mustNot(t *testing.T, r *Report, code string) {
	t.Helper()
	if fs := codes(r)[code]; len(fs) > 0 {
		t.Fatalf("unexpected %s finding: %+v", code, fs)
	}
}

// TestHealthyRealCaches: caches filled by real go commands give no finding,
// and the events carry their figures.
func TestHealthyRealCaches(t *testing.T) {
	dir := testenv.RealCaches(t)
	r, sink := run(t, config.User, nil, caches(dir)...)
	if len(r.Findings) != 0 {
		t.Fatalf("findings on healthy caches: %+v", r.Findings)
	}
	b, m := r.Caches[0], r.Caches[1]
	if b.Layout.Actions == 0 || b.Layout.Outputs == 0 || b.Files < b.Layout.Actions+b.Layout.Outputs {
		t.Errorf("build layout: %+v", b.Layout)
	}
	if m.Layout.Versions != 1 || m.Layout.Downloads < 1 {
		t.Errorf("mod layout: %+v (want the one uuid version)", m.Layout)
	}
	if !r.GOROOT.OK {
		t.Errorf("GOROOT: %+v", r.GOROOT)
	}
	events := sink.Snapshot()
	var audits int
	for _, e := range events {
		if e.Type == journal.Audit {
			audits++
			if e.Fields["GOMAINT_CACHE_PATH"] == "" || e.Fields["GOMAINT_FILES"] == "0" || e.Fields["MESSAGE_ID"] != journal.Audit.ID {
				t.Errorf("audit event: %+v", e.Fields)
			}
		}
	}
	if audits != 2 {
		t.Errorf("%d audit events, want one per cache", audits)
	}
}

// TestFiguresMatchFind: bytes, disk bytes, files and dirs equal what find(1)
// counts on the same tree.
func TestFiguresMatchFind(t *testing.T) {
	dir := testenv.RealCaches(t)
	// Add a symlink and an empty dir so every entry type is counted.
	os.Symlink("/etc/passwd", filepath.Join(dir, "gocache", "ff", "link"))
	os.Mkdir(filepath.Join(dir, "gomodcache", "empty"), 0o755)
	r, _ := run(t, config.User, nil, caches(dir)...)
	for _, c := range r.Caches {
		var files, dirs, bytes, disk int64
		out := testenv.Run(t, nil, "", "find", c.Path, "-printf", `%y %s %b\n`)
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var typ string
			var size, blocks int64
			fmt.Sscan(sc.Text(), &typ, &size, &blocks)
			disk += blocks * 512
			switch typ {
			case "f":
				files++
				bytes += size
			case "d":
				dirs++
			}
		}
		if c.Files != files || c.Dirs != dirs || c.ApparentBytes != bytes || c.DiskBytes != disk {
			t.Errorf("%s: gomaint files=%d dirs=%d bytes=%d disk=%d; find files=%d dirs=%d bytes=%d disk=%d",
				c.Name, c.Files, c.Dirs, c.ApparentBytes, c.DiskBytes, files, dirs, bytes, disk)
		}
	}
}

func TestDisabled(t *testing.T) {
	env := append(os.Environ(), "GOCACHE=off")
	r, _ := run(t, config.User, env, tgt("build", config.Build, ""))
	if f := must(t, r, "CACHE_DISABLED"); f.Severity != finding.Error || !strings.Contains(f.Detail, "GOCACHE=off") {
		t.Errorf("%+v", f)
	}
	// No GOCACHE, XDG_CACHE_HOME nor HOME: nothing to derive a cache from.
	r, _ = run(t, config.User, []string{"PATH=" + os.Getenv("PATH")}, tgt("build", config.Build, ""))
	if f := must(t, r, "CACHE_DISABLED"); !strings.Contains(f.Detail, "unset") {
		t.Errorf("%+v", f)
	}
}

// TestVolatile: a cache on a real tmpfs, and one under /var/tmp.
func TestVolatile(t *testing.T) {
	testenv.Root(t)
	dir := testenv.RealCaches(t)
	mnt := testenv.Mount(t, testenv.Dir(t), "tmpfs", "tmpfs", "size=1g")
	testenv.Run(t, nil, "", "cp", "-a", filepath.Join(dir, "gocache"), mnt)
	r, _ := run(t, config.User, nil, tgt("build", config.Build, filepath.Join(mnt, "gocache")))
	if f := must(t, r, "CACHE_VOLATILE"); !strings.Contains(f.Detail, "is on tmpfs") {
		t.Errorf("%+v", f)
	}
	if r.Caches[0].FS.Type != "tmpfs" {
		t.Errorf("fs type %q", r.Caches[0].FS.Type)
	}
	under, err := os.MkdirTemp("/var/tmp", "gomaint-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(under)
	r, _ = run(t, config.User, nil, tgt("build", config.Build, under))
	if f := must(t, r, "CACHE_VOLATILE"); !strings.Contains(f.Detail, "under /var/tmp") {
		t.Errorf("%+v", f)
	}
}

// TestVolatileNotYetCreated: a cache go has not created yet, on a tmpfs
// outside /tmp, is judged by the file system of its nearest existing
// ancestor: go will create it there (issue 12.6).
func TestVolatileNotYetCreated(t *testing.T) {
	testenv.Root(t)
	mnt := testenv.Mount(t, testenv.Dir(t), "tmpfs", "tmpfs", "size=16m")
	path := filepath.Join(mnt, "home", "go-build")
	r, _ := run(t, config.User, nil, tgt("build", config.Build, path))
	if r.Caches[0].Exists {
		t.Fatalf("%s exists", path)
	}
	f := must(t, r, "CACHE_VOLATILE")
	if !strings.Contains(f.Detail, "does not exist yet") || !strings.Contains(f.Detail, "tmpfs (mounted at "+mnt+")") {
		t.Errorf("%+v", f)
	}
	// The same on persistent storage is no finding.
	r, _ = run(t, config.User, nil, tgt("build", config.Build, filepath.Join(testenv.Dir(t), "home", "go-build")))
	if len(codes(r)["CACHE_VOLATILE"]) != 0 {
		t.Errorf("persistent storage: %+v", r.Findings)
	}
}

// TestUnprotected: a real user tmpfiles.d file that ages the cache, read by
// the real systemd-tmpfiles; then an x line that excludes it.
func TestUnprotected(t *testing.T) {
	testenv.Command(t, "systemd-tmpfiles")
	dir := testenv.RealCaches(t)
	cache := filepath.Join(dir, "gocache")
	confDir := filepath.Join(dir, "config", "user-tmpfiles.d")
	os.MkdirAll(confDir, 0o755)
	conf := filepath.Join(confDir, "aging.conf")
	os.WriteFile(conf, []byte("# test\ne "+dir+" - - - 10d\n"), 0o644)
	env := append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "HOME="+dir)
	r, sink := run(t, config.User, env, tgt("build", config.Build, cache))
	f := must(t, r, "CACHE_UNPROTECTED")
	if !strings.Contains(f.Detail, conf+":2") || !strings.Contains(f.Detail, "10d") || f.Fix != "gomaint protect" {
		t.Errorf("%+v", f)
	}
	var found bool
	for _, e := range sink.Snapshot() {
		if e.Fields["GOMAINT_FINDING"] == "CACHE_UNPROTECTED" && e.Type.ID == cacheUnprotected.Type().ID && e.Fields["GOMAINT_EVENT"] == "finding" {
			found = true
		}
	}
	if !found {
		t.Error("no CACHE_UNPROTECTED event")
	}
	os.WriteFile(filepath.Join(confDir, "protect.conf"), []byte("x "+cache+"\n"), 0o644)
	r, _ = run(t, config.User, env, tgt("build", config.Build, cache))
	mustNot(t, r, "CACHE_UNPROTECTED")
}

// TestNotWritableAndForeign: a cache owned by nobody after a `sudo go ...`
// left root-owned entries. The audit names trim.txt, and a real go build as
// nobody fails exactly as the finding says.
func TestNotWritableAndForeign(t *testing.T) {
	testenv.Root(t)
	uid, gid := testenv.Nobody(t)
	dir := testenv.RealCaches(t)
	cache := filepath.Join(dir, "gocache")
	testenv.Run(t, nil, "", "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), dir)
	// What `sudo go build` leaves: a root-owned 0644 trim.txt (here due for a
	// trim) and a root-owned 0755 shard.
	trim := filepath.Join(cache, "trim.txt")
	os.WriteFile(trim, []byte(strconv.FormatInt(time.Now().Add(-48*time.Hour).Unix(), 10)), 0o644)
	os.Chown(trim, 0, 0)
	os.Chown(filepath.Join(cache, "0a"), 0, 0)

	r, sink := run(t, config.System, nil, tgt("build", config.Build, cache))
	nw := codes(r)["CACHE_NOT_WRITABLE"]
	if len(nw) != 2 || !strings.Contains(nw[0].Detail, "failed to trim cache") || nw[1].Count != 2 {
		t.Fatalf("CACHE_NOT_WRITABLE: %+v", nw)
	}
	fo := must(t, r, "FOREIGN_OWNER")
	if fo.Count != 2 || !strings.Contains(fo.Detail, "owned by root") || !strings.Contains(fo.Fix, "chown -R nobody:") {
		t.Errorf("FOREIGN_OWNER: %+v", fo)
	}
	for _, e := range sink.Snapshot() {
		if e.Fields["GOMAINT_FINDING"] == "FOREIGN_OWNER" && e.Fields["GOMAINT_COUNT"] != "2" {
			t.Errorf("event count %q", e.Fields["GOMAINT_COUNT"])
		}
	}

	// The real consequence, for the go installed here: before Go 1.26 the
	// build fails to trim; from 1.26 it succeeds but cannot record the trim.
	// The root-owned shard goes back to nobody first: the module's source
	// dir is new for every run, so its build writes a few new entries, and
	// one landing in that shard (about 1 run in 100) would fail the build
	// for another reason than trim.txt.
	os.Chown(filepath.Join(cache, "0a"), uid, gid)
	src := testenv.Module(t, dir)
	testenv.Run(t, nil, "", "chown", "-R", fmt.Sprintf("%d:%d", uid, gid), src)
	before, _ := os.ReadFile(trim)
	cmd := exec.Command("go", "build", "-o", os.DevNull, ".")
	cmd.Dir, cmd.Env = src, testenv.GoEnv(dir)
	cmd.SysProcAttr = credential(uid, gid)
	out, err := cmd.CombinedOutput()
	after, _ := os.ReadFile(trim)
	if goMinor(t) < 26 {
		if err == nil || !strings.Contains(string(out), "failed to trim cache") {
			t.Errorf("go build as nobody: err=%v\n%s", err, out)
		}
	} else if err != nil || string(before) != string(after) {
		t.Errorf("go build as nobody: err=%v, trim.txt %q -> %q\n%s", err, before, after, out)
	}
}

// goMinor returns Y of the installed go1.Y.
func goMinor(t *testing.T) int {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	v, ok := config.ParseGoVersion(strings.TrimSpace(string(out)))
	if !ok {
		t.Fatalf("go version %q", out)
	}
	return v.Minor
}

func TestOverLimit(t *testing.T) {
	dir := testenv.RealCaches(t)
	tg := tgt("build", config.Build, filepath.Join(dir, "gocache"))
	tg.MaxSize = 1 << 20
	r, _ := run(t, config.User, nil, tg)
	f := must(t, r, "OVER_LIMIT")
	if f.DiskBytes != r.Caches[0].DiskBytes-1<<20 {
		t.Errorf("over by %d, want %d", f.DiskBytes, r.Caches[0].DiskBytes-1<<20)
	}
	tg.MaxSize = config.Size(r.Caches[0].DiskBytes)
	r, _ = run(t, config.User, nil, tg)
	mustNot(t, r, "OVER_LIMIT")
}

// TestLowDiskAndInodes: a real small tmpfs filled almost to the brim, and
// one with almost no inodes left.
func TestLowDiskAndInodes(t *testing.T) {
	testenv.Root(t)
	base := testenv.Dir(t)
	mnt := testenv.Mount(t, base, "tmpfs", "tmpfs", "size=4m,nr_inodes=64")
	cache := filepath.Join(mnt, "gocache")
	os.MkdirAll(filepath.Join(cache, "00"), 0o755)
	if err := os.WriteFile(filepath.Join(cache, "00", strings.Repeat("ab", 32)+"-d"), make([]byte, 4000<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 58; i++ {
		os.WriteFile(filepath.Join(cache, "00", fmt.Sprintf("%064x-a", i)), make([]byte, 175), 0o644)
	}
	r, _ := run(t, config.User, nil, tgt("build", config.Build, cache))
	if f := must(t, r, "LOW_DISK"); f.Path != mnt {
		t.Errorf("LOW_DISK path %q, want the mount %q", f.Path, mnt)
	}
	must(t, r, "INODE_PRESSURE")
}

func TestUnexpectedEntries(t *testing.T) {
	dir := testenv.RealCaches(t)
	build, mod := filepath.Join(dir, "gocache"), filepath.Join(dir, "gomodcache")
	os.WriteFile(filepath.Join(build, "notes.txt"), []byte("mine"), 0o644)
	os.Mkdir(filepath.Join(build, "backup"), 0o755)
	os.WriteFile(filepath.Join(build, "3f", "foo"), nil, 0o644)
	os.Symlink("/etc", filepath.Join(build, "3f", "etc-link"))
	// A stale extraction directory and a young one (in flight: not a finding).
	stale := filepath.Join(mod, "github.com", "google", "uuid@v1.5.0.tmp-123")
	young := filepath.Join(mod, "github.com", "google", "uuid@v1.4.0.tmp-456")
	os.Mkdir(stale, 0o755)
	os.Mkdir(young, 0o755)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	r, _ := run(t, config.User, nil, caches(dir)...)
	var sawStray, sawStale bool
	for _, f := range codes(r)["UNEXPECTED_ENTRY"] {
		switch f.Cache {
		case "build":
			sawStray = f.Count == 4 && strings.Contains(f.Detail, "notes.txt")
		case "mod":
			sawStale = f.Count == 1 && strings.Contains(f.Detail, "uuid@v1.5.0.tmp-123") && !strings.Contains(f.Detail, "v1.4.0")
		}
	}
	if !sawStray || !sawStale {
		t.Fatalf("UNEXPECTED_ENTRY: %+v", codes(r)["UNEXPECTED_ENTRY"])
	}
	if r.Caches[0].Symlinks != 1 {
		t.Errorf("symlinks %d", r.Caches[0].Symlinks)
	}
}

// TestMountPointNotEntered: a bind mount of an outside directory inside a
// cache is reported and none of its files are counted.
func TestMountPointNotEntered(t *testing.T) {
	testenv.Root(t)
	dir := testenv.RealCaches(t)
	build := filepath.Join(dir, "gocache")
	before, _ := run(t, config.User, nil, tgt("build", config.Build, build))
	outside := testenv.Dir(t)
	for i := 0; i < 10; i++ {
		os.WriteFile(filepath.Join(outside, fmt.Sprint(i)), make([]byte, 1000), 0o644)
	}
	// A bind mount from the same file system has the same st_dev.
	mnt := testenv.Mount(t, filepath.Join(build, "7e"), "", outside, "")
	r, _ := run(t, config.User, nil, tgt("build", config.Build, build))
	found := false
	for _, f := range codes(r)["UNEXPECTED_ENTRY"] {
		found = found || (strings.Contains(f.Detail, "mount points") && strings.HasSuffix(f.Path, "7e/"+filepath.Base(mnt)))
	}
	if !found {
		t.Fatalf("bind mount not reported: %+v", r.Findings)
	}
	if r.Caches[0].Files != before.Caches[0].Files {
		t.Errorf("files %d, want %d: the bind mount was entered", r.Caches[0].Files, before.Caches[0].Files)
	}
}

func TestStaleToolchains(t *testing.T) {
	dir := testenv.RealCaches(t)
	mod := filepath.Join(dir, "gomodcache")
	old := time.Now().Add(-60 * 24 * time.Hour)
	mkToolchain := func(v string, when time.Time) {
		tc := filepath.Join(mod, "golang.org", "toolchain@v0.0.1-"+v+".linux-amd64")
		os.MkdirAll(filepath.Join(tc, "bin"), 0o755)
		os.WriteFile(filepath.Join(tc, "bin", "go"), make([]byte, 3000), 0o755)
		os.Chtimes(filepath.Join(tc, "bin", "go"), when, when)
		os.Chtimes(tc, when, when)
		dl := filepath.Join(mod, "cache", "download", "golang.org", "toolchain", "@v")
		os.MkdirAll(dl, 0o755)
		os.WriteFile(filepath.Join(dl, "v0.0.1-"+v+".linux-amd64.zip"), make([]byte, 5000), 0o644)
	}
	mkToolchain("go1.21.0", old)
	mkToolchain("go1.23.0", time.Now())
	r, _ := run(t, config.User, nil, tgt("mod", config.Mod, mod))
	f := must(t, r, "STALE_TOOLCHAINS")
	if f.Count != 1 || f.ApparentBytes != 8000 || !strings.Contains(f.Detail, "go1.21.0") || strings.Contains(f.Detail, "go1.23.0") {
		t.Errorf("%+v", f)
	}
	if r.Caches[0].Layout.Toolchains != 2 {
		t.Errorf("toolchains %d", r.Caches[0].Layout.Toolchains)
	}
	mustNot(t, r, "UNEXPECTED_ENTRY")
}

func TestWorldWritable(t *testing.T) {
	dir := testenv.RealCaches(t)
	build := filepath.Join(dir, "gocache")
	os.Chmod(filepath.Join(build, "c4"), 0o777)
	r, _ := run(t, config.User, nil, tgt("build", config.Build, build))
	if f := must(t, r, "WORLD_WRITABLE"); f.Severity != finding.Error || f.Count != 1 {
		t.Errorf("%+v", f)
	}
}

// TestGOROOTFindings: the audit reports GOROOT problems as findings and
// events; a required GOROOT is an error.
func TestGOROOTFindings(t *testing.T) {
	env := append(os.Environ(), "GOROOT=/nonexistent")
	r, sink := run(t, config.User, env, tgt("build", config.Build, testenv.Dir(t)))
	f := must(t, r, "GOROOT_MISSING")
	if f.Severity != finding.Error || f.Path != "/nonexistent" || r.GOROOT.OK {
		t.Errorf("%+v", f)
	}
	var ev bool
	for _, e := range sink.Snapshot() {
		ev = ev || (e.Fields["GOMAINT_EVENT"] == "goroot" && e.Fields["GOMAINT_GOROOT"] == "/nonexistent" && e.Type.ID == goroot.Missing.Type().ID)
	}
	if !ev {
		t.Error("no goroot event naming /nonexistent")
	}
}
