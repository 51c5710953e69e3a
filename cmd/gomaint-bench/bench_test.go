package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/config"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := append([]float64(nil), c.xs...)
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.xs, got, c.want)
		}
		for i := range in {
			if in[i] != c.xs[i] {
				t.Errorf("median reordered its argument: %v", c.xs)
			}
		}
	}
	ss := []sample{{wall: 3 * time.Second}, {wall: time.Second}}
	if got := medianWall(ss); got != 2 {
		t.Errorf("medianWall = %v, want 2", got)
	}
}

// TestWriteConfig: what the modes write is a configuration gomaint
// accepts, with each field as given, whatever a path holds.
func TestWriteConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bench.toml")
	odd := `/var/tmp/a "quoted" \ dir` + "\n" + `[[target]]`
	err := writeConfig(file, "first line\nsecond line", configFile{
		Daemon: &daemonTable{Watch: true},
		Targets: []target{
			{Name: "build", Kind: "build", Path: odd, MaxSize: 1 << 30},
			cleanTarget("mod", "mod", "/var/tmp/mod"),
			{Name: "auto", Kind: "build", Path: "/var/tmp/auto"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "# first line\n# second line\n") {
		t.Errorf("the comment is not at the top, one # line each:\n%s", data)
	}
	c, err := config.Parse(config.User, file, data)
	if err != nil {
		t.Fatalf("gomaint rejects the written config: %v\n%s", err, data)
	}
	if !c.Daemon.Watch || len(c.Targets) != 3 {
		t.Fatalf("parsed %+v", c)
	}
	b, m := c.Targets[0], c.Targets[1]
	if b.Name != "build" || b.Kind != config.Build || b.Path != odd || int64(b.MaxSize) != 1<<30 {
		t.Errorf("build target %+v", b)
	}
	// Fields not set keep gomaint's defaults: max_size "auto" for a build cache.
	if a := c.Targets[2]; a.MaxSize != config.AutoSize || a.MinAge != config.Default(config.User).Targets[0].MinAge {
		t.Errorf("a target without max_size or min_age: %+v", a)
	}
	if m.Name != "mod" || m.Kind != config.Mod || m.Path != "/var/tmp/mod" || time.Duration(m.MinAge) != time.Hour {
		t.Errorf("mod target %+v", m)
	}
}

// TestMedianCI: the interval is made of order statistics chosen by the
// binomial distribution: the 10th and 21st of 30 values, the extremes of
// 6, none for 5.
func TestMedianCI(t *testing.T) {
	vals := func(n int) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64((i*7)%n + 1) // a permutation of 1..n (7 is prime to 30, 6 and 5), out of order for 30 and 5
		}
		return xs
	}
	for _, c := range []struct {
		n      int
		lo, hi float64
		ok     bool
	}{{30, 10, 21, true}, {6, 1, 6, true}, {5, 0, 0, false}, {0, 0, 0, false}} {
		xs := vals(c.n)
		lo, hi, ok := medianCI(xs)
		if lo != c.lo || hi != c.hi || ok != c.ok {
			t.Errorf("medianCI of %d values = %v, %v, %v; want %v, %v, %v", c.n, lo, hi, ok, c.lo, c.hi, c.ok)
		}
		if !slices.Equal(xs, vals(c.n)) {
			t.Errorf("medianCI reordered its argument: %v", xs)
		}
	}
}

// TestOneCopyEach: the setup, the median and the config writer each exist
// once; a mode that grows its own copy again fails here.
func TestOneCopyEach(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string][]string{} // function called -> files calling it
	literals := map[string][]string{}
	for _, p := range pkgs {
		for name, f := range p.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok {
						calls[id.Name] = append(calls[id.Name], name)
					}
				case *ast.BasicLit:
					if strings.Contains(n.Value, "[[target]]") {
						literals["[[target]]"] = append(literals["[[target]]"], name)
					}
				case *ast.BinaryExpr:
					// (len-1)/2, the middle of a sorted slice: only median
					// computes it.
					if two, ok := n.Y.(*ast.BasicLit); ok && two.Value == "2" && n.Op == token.QUO {
						if l, ok := n.X.(*ast.ParenExpr); ok {
							if b, ok := l.X.(*ast.BinaryExpr); ok && b.Op == token.SUB {
								calls["(x-1)/2"] = append(calls["(x-1)/2"], name)
							}
						}
					}
				}
				return true
			})
		}
	}
	for fn, want := range map[string]string{"findRepo": "setup.go", "makeWorkDir": "setup.go", "buildGomaint": "setup.go", "(x-1)/2": "stats.go"} {
		if got := calls[fn]; len(got) != 1 || got[0] != want {
			t.Errorf("%s: used in %v, want once, in %s", fn, got, want)
		}
	}
	if got := literals["[[target]]"]; len(got) > 0 {
		t.Errorf("configuration written by hand in %v: use writeConfig", got)
	}
}

// TestCopySource: the copy -run builds holds every file a build of
// cmd/gomaint needs, and no test file.
func TestCopySource(t *testing.T) {
	repo, err := findRepo(".")
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if err := copySource(repo, dst); err != nil {
		t.Fatal(err)
	}
	out := goIn(t, dst, "list", "-e", "-deps", "-f", "{{with .Error}}{{.}}\n{{end}}{{range .DepsErrors}}{{.}}\n{{end}}", "./cmd/gomaint")
	if out != "" {
		t.Errorf("go list in the copy reports errors:\n%s", out)
	}
	filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, "_test.go") {
			t.Errorf("test file copied: %s", p)
		}
		return err
	})
}

// TestChurnModule: the generated module builds, and a change of its
// constant makes stale exactly the packages churnPackages says it
// rebuilds, so that each build of the series leaves entries behind.
func TestChurnModule(t *testing.T) {
	for _, lite := range []bool{false, true} {
		dir := t.TempDir()
		if err := writeChurn(dir, lite); err != nil {
			t.Fatal(err)
		}
		goIn(t, dir, "build", "./...")
		if err := setChurnVersion(dir, 1); err != nil {
			t.Fatal(err)
		}
		all, rebuilt := churnPackages(lite)
		stale := goIn(t, dir, "list", "-f", "{{.Stale}}", "./...")
		if n, m := strings.Count(stale, "\n"), strings.Count(stale, "true"); n != all || m != rebuilt {
			t.Errorf("lite %v: %d packages, %d stale after the change; want %d and %d", lite, n, m, all, rebuilt)
		}
	}
}

// goIn runs go in dir and returns its standard output.
func goIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return string(out)
}
