package buildfail

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// cache_permission: a GOCACHE root made and kept by root (0755), used by
// another user: go cannot make its shards; one that root filled: go
// cannot write its package index, and blames the standard library; a
// module cache root owns.
func TestCachePermission(t *testing.T) {
	dir := testenv.Dir(t)
	u := testenv.NewUser(t, "gmt-bf-perm", dir)

	empty := filepath.Join(dir, "empty-cache")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	r := goRun(t, dir, jsonMain(t, dir), []string{"GOCACHE=" + empty}, "build", "-o", os.DevNull, ".")
	res := scanAs(t, u, r)
	want(t, res, empty, CachePermission)
	if !strings.Contains(res.Stderr, "failed to initialize build cache") {
		t.Errorf("not go's cache initialisation failure:\n%s", res.Stderr)
	}

	// Root lists fmt: go makes the cache and indexes fmt's packages.
	filled := filepath.Join(dir, "root-cache")
	testenv.Run(t, append(testenv.GoEnv(dir), "GOCACHE="+filled), "/", "go", "list", "-deps", "fmt")
	r = goRun(t, dir, jsonMain(t, dir), []string{"GOCACHE=" + filled}, "build", "-o", os.DevNull, ".")
	res = scanAs(t, u, r)
	want(t, res, filled, CachePermission)
	if !strings.Contains(res.Stderr, "is not in std") {
		t.Errorf("go did not hide the index write as a package not in std:\n%s", res.Stderr)
	}

	// A module cache root owns: go cannot store a download in it.
	proxy := filepath.Join(testenv.Dir(t), "proxy")
	testenv.ModDownload(t, proxy, nil, uuidModule)
	modcache := filepath.Join(dir, "root-modcache")
	if err := os.Mkdir(modcache, 0o755); err != nil {
		t.Fatal(err)
	}
	r = goRun(t, dir, uuidMain(t, dir, uuidSum), []string{"GOMODCACHE=" + modcache, "GOPROXY=file://" + proxy + "/cache/download", "GOSUMDB=off"},
		"build", "-o", os.DevNull, ".")
	want(t, scanAs(t, u, r), modcache, CachePermission)
}

// disk_full: GOCACHE on a full tmpfs (go hides the failed index write as
// packages not in std), on one with no inodes left for the shards, and
// go's temporary directory full.
func TestDiskFull(t *testing.T) {
	dir := testenv.Dir(t)

	tiny := testenv.Mount(t, filepath.Join(dir, "bytes"), "tmpfs", "tmpfs", "size=64k")
	r := goRun(t, dir, jsonMain(t, dir), []string{"GOCACHE=" + filepath.Join(tiny, "gocache")}, "build", "-o", os.DevNull, ".")
	res := scan(t, r)
	want(t, res, tiny, DiskFull)
	if !strings.Contains(res.Stderr, "is not in std") {
		t.Errorf("go did not hide the index write as a package not in std:\n%s", res.Stderr)
	}

	few := testenv.Mount(t, filepath.Join(dir, "inodes"), "tmpfs", "tmpfs", "nr_inodes=64")
	r = goRun(t, dir, jsonMain(t, dir), []string{"GOCACHE=" + filepath.Join(few, "gocache")}, "build", "-o", os.DevNull, ".")
	res = scan(t, r)
	want(t, res, few, DiskFull)
	if !strings.Contains(res.Stderr, "no space left on device") {
		t.Errorf("go did not say no space:\n%s", res.Stderr)
	}

	tmp := testenv.Mount(t, filepath.Join(dir, "tmp"), "tmpfs", "tmpfs", "size=4k")
	r = goRun(t, dir, leaf(t, dir, "func F() int { return 1 }\n"), []string{"GOTMPDIR=" + tmp}, "build", ".")
	res = scan(t, r)
	want(t, res, "temporary directory ("+tmp+")", DiskFull)
}

// goroot: GOROOT not a directory, a directory with no Go in it, and one
// with the library but no tools.
func TestGOROOT(t *testing.T) {
	dir := testenv.Dir(t)
	src := jsonMain(t, dir)

	res := scan(t, goRun(t, dir, src, []string{"GOROOT=/nonexistent"}, "build", "-o", os.DevNull, "."))
	want(t, res, "/nonexistent", GOROOT)

	empty := filepath.Join(dir, "empty-goroot")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	res = scan(t, goRun(t, dir, src, []string{"GOROOT=" + empty}, "build", "-o", os.DevNull, "."))
	want(t, res, empty, GOROOT)

	real := strings.TrimSpace(testenv.Run(t, nil, "", "go", "env", "GOROOT"))
	half := filepath.Join(dir, "half-goroot")
	if err := os.Mkdir(half, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"src", "VERSION", "go.env"} {
		if err := os.Symlink(filepath.Join(real, name), filepath.Join(half, name)); err != nil {
			t.Fatal(err)
		}
	}
	res = scan(t, goRun(t, dir, src, []string{"GOROOT=" + half}, "build", "-o", os.DevNull, "."))
	want(t, res, half, GOROOT)
	if !strings.Contains(res.Stderr, `no such tool "compile"`) {
		t.Errorf("not go's missing tool:\n%s", res.Stderr)
	}
}

// The module the module tests require, and go.sum for it (hashes as the
// checksum database has them).
const (
	uuidModule = "github.com/google/uuid@v1.6.0"
	uuidSum    = "github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\n" +
		"github.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n"
)

func uuidMain(t *testing.T, dir, sum string) string {
	return writeModule(t, dir, "src-uuid", map[string]string{
		"go.mod":  goMod + "\nrequire github.com/google/uuid v1.6.0\n",
		"go.sum":  sum,
		"main.go": "package main\n\nimport \"github.com/google/uuid\"\n\nfunc main() { println(uuid.NewString()) }\n",
	})
}

// module_download: a requirement not in the module cache, with GOPROXY=off
// and with a file:// proxy that does not have it.
func TestModuleDownload(t *testing.T) {
	dir := testenv.Dir(t)
	src := uuidMain(t, dir, uuidSum)
	res := scan(t, goRun(t, dir, src, []string{"GOPROXY=off"}, "build", "-o", os.DevNull, "."))
	want(t, res, "GOPROXY=off", ModuleDownload)

	empty := filepath.Join(dir, "empty-proxy")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	res = scan(t, goRun(t, dir, src, []string{"GOPROXY=file://" + empty, "GOSUMDB=off"}, "build", "-o", os.DevNull, "."))
	want(t, res, "github.com/google/uuid@v1.6.0", ModuleDownload)
}

// module_checksum: go.sum's line for the module's zip, and for its go.mod,
// changed by one character.
func TestModuleChecksum(t *testing.T) {
	dir := testenv.Dir(t)
	modcache := filepath.Join(dir, "gomodcache")
	testenv.ModDownload(t, modcache, nil, uuidModule)
	zipSum := strings.Replace(uuidSum, "h1:NIva", "h1:MIva", 1)
	res := scan(t, goRun(t, dir, uuidMain(t, dir, zipSum), []string{"GOPROXY=off"}, "build", "-o", os.DevNull, "."))
	want(t, res, "github.com/google/uuid@v1.6.0", ModuleChecksum)

	// go checks a go.mod's line when it downloads it: into a new cache.
	modSum := strings.Replace(uuidSum, "h1:TIyP", "h1:UIyP", 1)
	res = scan(t, goRun(t, testenv.Dir(t), uuidMain(t, dir, modSum), []string{"GOPROXY=file://" + modcache + "/cache/download", "GOSUMDB=off"},
		"build", "-o", os.DevNull, "."))
	want(t, res, "github.com/google/uuid@v1.6.0/go.mod", ModuleChecksum)
}

// vanishScript is a -toolexec wrapper that, before the compiler or linker
// of package main runs, removes the build cache files its importcfg
// names. go looked those entries up a moment before and handed their
// paths to the tool: this is a removal between go's lookup and the
// tool's open, made deterministic instead of raced for.
const vanishScript = `#!/bin/sh
tool="$1"
case "$tool" in
*/` + "$TOOL" + `)
	prev= main= cfg=
	for a in "$@"; do
		[ "$prev" = -p ] && [ "$a" = main ] && main=1
		[ "$prev" = -importcfg ] && cfg="$a"
		prev="$a"
	done
	if [ -n "$main$VANISH_ANY" ] && [ -n "$cfg" ]; then
		sed -n 's/^packagefile [^=]*=//p' "$cfg" | while read -r f; do
			case "$f" in "$GOCACHE"/*) rm -f "$f";; esac
		done
	fi;;
esac
exec "$@"
`

// cache_vanished: cache entries removed while the build used them, for
// the compiler (reported relative to the module's directory, as go
// shortens paths) and for the linker.
func TestCacheVanished(t *testing.T) {
	dir := testenv.Dir(t)
	src := writeModule(t, dir, "src", map[string]string{"go.mod": goMod})
	build := func(tool, body string, extra ...string) result {
		t.Helper()
		script := filepath.Join(dir, "vanish-"+tool)
		os.Remove(script)
		testenv.WriteExec(t, script, strings.NewReader(strings.ReplaceAll(vanishScript, "$TOOL", tool)))
		main := "package main\n\nimport \"errors\"\n\nfunc main() { println(errors.New(\"" + body + "\")) }\n"
		if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(main), 0o644); err != nil {
			t.Fatal(err)
		}
		return scan(t, goRun(t, dir, src, extra, "build", "-toolexec="+script, "-o", os.DevNull, "."))
	}
	// The first build fills the cache (the compiler of main reads its
	// imports from $WORK); the second finds them there, and loses them.
	if res := build("compile", "1"); res.Failed || len(res.Failures) > 0 {
		t.Fatalf("filling the cache: %+v", res)
	}
	res := build("compile", "2")
	want(t, res, "GOCACHE", CacheVanished)
	if !strings.Contains(res.Stderr, "could not import errors (open ../gocache/") {
		t.Errorf("not the compiler's import of a relative cache path:\n%s", res.Stderr)
	}
	// The linker's inputs (runtime and the rest) are still in the cache.
	res = build("link", "3", "VANISH_ANY=1")
	want(t, res, "GOCACHE", CacheVanished)
	if !strings.Contains(res.Stderr, "link: cannot open file "+filepath.Join(dir, "gocache")) {
		t.Errorf("not the linker's open of a cache entry:\n%s", res.Stderr)
	}
}

// A build that fails for none of the known reasons is other, one that
// succeeds counts nothing.
func TestOtherAndSuccess(t *testing.T) {
	dir := testenv.Dir(t)
	res := scan(t, goRun(t, dir, leaf(t, dir, "var x int = \"s\"\n"), nil, "build", "."))
	want(t, res, "")
	if got := Reasons(res.Failed, res.Failures); len(got) != 1 || got[0] != Other {
		t.Errorf("Reasons = %q, want [other]", got)
	}

	dir = testenv.Dir(t)
	res = scan(t, goRun(t, dir, leaf(t, dir, "func F() int { return 1 }\n"), nil, "build", "."))
	if res.Failed || len(res.Failures) > 0 || Reasons(res.Failed, res.Failures) != nil {
		t.Errorf("a successful build: %+v", res)
	}
}
