package workset

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/testenv"
	"github.com/gomaint/gomaint/maint/trim"
	"github.com/gomaint/gomaint/maint/watch"
)

const (
	xmodDir   = "golang.org/x/mod@v0.43.0"
	xmodAtV   = "cache/download/golang.org/x/mod/@v/v0.43.0"
	tomlAtV   = "cache/download/github.com/!burnt!sushi/toml/@v/v1.6.0"
	uuid      = "github.com/google/uuid@v1.6.0"
	toolchain = "golang.org/toolchain@v0.0.1-go1.22.0.linux-amd64"
	vcsRepo   = "cache/vcs/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

func write(t *testing.T, p, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// goBuild runs go build in src with env and extra settings after it,
// returning its error and output.
func goBuild(src string, env []string, extra ...string) (string, error) {
	cmd := exec.Command("go", "build", "-o", os.DevNull, ".")
	cmd.Env, cmd.Dir = append(slices.Clone(env), extra...), src
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPruneModules: a real module cache holding golang.org/x/mod and
// github.com/BurntSushi/toml, both required by a program that imports
// only toml, an old toolchain and an old VCS checkout. While a watch runs,
// a warm `go build` of the program and a download of a third module
// (new directories); then PruneModules with what the watch recorded:
// a dry run lists x/mod alone and removes nothing; the run removes
// x/mod's tree, .zip and .ziphash, keeps its .info and .mod, toml, the
// download, the toolchain and the checkout; the download is kept even
// when the record misses it, for its files are newer than the run's
// start. The build then succeeds with GOPROXY=off; a program importing
// x/mod needs the network again, and gets it back.
func TestPruneModules(t *testing.T) {
	cache, src, env := testenv.ModCache(t)
	write(t, filepath.Join(src, "main.go"), "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/BurntSushi/toml\"\n)\n\n"+
		"func main() { var v map[string]any; fmt.Println(toml.Unmarshal([]byte(\"a = 1\"), &v)) }\n")
	for _, f := range []string{toolchain + "/bin/go", "cache/download/golang.org/toolchain/@v/v0.0.1-go1.22.0.linux-amd64.zip",
		"cache/download/golang.org/toolchain/@v/v0.0.1-go1.22.0.linux-amd64.mod", vcsRepo + "/HEAD"} {
		write(t, filepath.Join(cache, f), "x\n")
	}
	made := time.Now()
	if out, err := goBuild(src, env); err != nil { // the build cache made warm
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The run starts later than anything was written, by more than the
	// coarse clock's slack.
	time.Sleep(time.Until(made.Add(2 * clockSlack)))

	root, err := safefs.OpenRoot(cache)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	since := time.Now()
	m, err := watch.OpenModules(root)
	if err != nil {
		t.Fatal(err)
	}
	go m.Run()
	if out, err := goBuild(src, env); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	testenv.Run(t, append(slices.Clone(env), "GOFLAGS=-modcacherw"), testenv.Dir(t), "go", "mod", "download", uuid)
	m.Close()
	used := m.Used()
	if err := m.Incomplete(); err != nil || !slices.Equal(used, []string{testenv.ModTomlDir, uuid}) {
		t.Fatalf("the watch recorded %q (Incomplete: %v), want toml and uuid", used, err)
	}

	for _, rec := range [][]string{used, {testenv.ModTomlDir}} {
		var listed []string
		res, err := PruneModules(context.Background(), root, rec, since, trim.Options{DryRun: true,
			Removed: func(r trim.Removal) { listed = append(listed, r.Path) }})
		if err != nil || !res.DryRun || res.Versions != 1 || res.Failed != 0 || !slices.Equal(listed, []string{xmodDir}) {
			t.Fatalf("dry run with %q used: %+v, %q, %v; want x/mod alone", rec, res, listed, err)
		}
	}
	if !exists(filepath.Join(cache, xmodDir)) || !exists(filepath.Join(cache, xmodAtV+".zip")) {
		t.Fatal("the dry run removed x/mod")
	}

	res, err := PruneModules(context.Background(), root, used, since, trim.Options{})
	if err != nil || res.Versions != 1 || res.Failed != 0 || res.Skipped != 0 || res.FreedBytes <= 0 {
		t.Fatalf("PruneModules: %+v, %v; want x/mod removed", res, err)
	}
	for _, p := range []string{xmodDir, xmodAtV + ".zip", xmodAtV + ".ziphash", xmodAtV + ".partial"} {
		if exists(filepath.Join(cache, p)) {
			t.Errorf("%s is still there", p)
		}
	}
	for _, p := range []string{xmodAtV + ".info", xmodAtV + ".mod", testenv.ModTomlDir, tomlAtV + ".zip", tomlAtV + ".ziphash",
		uuid, "cache/download/github.com/google/uuid/@v/v1.6.0.zip", toolchain + "/bin/go",
		"cache/download/golang.org/toolchain/@v/v0.0.1-go1.22.0.linux-amd64.zip", vcsRepo} {
		if !exists(filepath.Join(cache, p)) {
			t.Errorf("%s was removed", p)
		}
	}

	if out, err := goBuild(src, env, "GOFLAGS=-mod=mod", "GOPROXY=off"); err != nil {
		t.Errorf("go build with GOPROXY=off after the prune: %v\n%s", err, out)
	}
	write(t, filepath.Join(src, "main.go"), "package main\n\nimport (\n\t\"fmt\"\n\n\t\"golang.org/x/mod/semver\"\n)\n\n"+
		"func main() { fmt.Println(semver.IsValid(\"v1.0.0\")) }\n")
	if out, err := goBuild(src, env, "GOFLAGS=-mod=mod", "GOPROXY=off"); err == nil || !strings.Contains(out, "GOPROXY=off") {
		t.Errorf("a build importing the pruned x/mod with GOPROXY=off: %v\n%s; want go to ask for the network", err, out)
	}
	if out, err := goBuild(src, env); err != nil {
		t.Errorf("a build importing the pruned x/mod, downloading it again: %v\n%s", err, out)
	}
}
