package buildfail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// These tests run real go commands into the failures gomaint run names,
// and hold the scanner to what go really printed.

// run is one go command of a test: where, with what environment, and the
// scanner's view of it.
type run struct {
	Dir     string
	Environ []string
	Env     Env
	Args    []string // after "go"
}

// result is what a run printed on stderr and what the scanner made of it.
type result struct {
	Failed   bool
	Failures []Failure
	Stderr   string
}

// goRun is a run with caches under dir, as testenv.GoEnv has them, and
// extra variables over them.
func goRun(t *testing.T, dir, src string, extra []string, args ...string) run {
	t.Helper()
	environ := append(testenv.GoEnv(dir), extra...)
	get := func(k string) string {
		for _, kv := range slices.Backward(environ) {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	goroot := get("GOROOT")
	if goroot == "" {
		goroot = strings.TrimSpace(testenv.Run(t, nil, "", "go", "env", "GOROOT"))
	}
	tmp := get("GOTMPDIR")
	if tmp == "" {
		tmp = os.TempDir()
	}
	return run{Dir: src, Environ: environ, Args: args,
		Env: Env{GOCACHE: get("GOCACHE"), GOMODCACHE: get("GOMODCACHE"), GOROOT: goroot, TempDir: tmp, Dir: src}}
}

// do runs r with its stderr through a Scanner, as gomaint run does.
func (r run) do() (result, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return result{}, err
	}
	var out bytes.Buffer
	s := scannerWith(&out, r.Env)
	cmd := exec.Command(gobin, r.Args...)
	cmd.Dir, cmd.Env, cmd.Stderr = r.Dir, r.Environ, s
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return result{}, err
	}
	s.Close()
	return result{Failed: err != nil, Failures: s.Failures(), Stderr: out.String()}, nil
}

// scan runs r as root (the test's user).
func scan(t *testing.T, r run) result {
	t.Helper()
	testenv.Command(t, "go")
	res, err := r.do()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// scanAs runs r, scanner and all, in a copy of the test binary as u: the
// scanner looks at the caches with u's rights, as gomaint run would.
func scanAs(t *testing.T, u testenv.User, r run) result {
	t.Helper()
	testenv.Command(t, "go")
	req, _ := json.Marshal(r)
	cmd := exec.Command(testenv.Self(t), "-test.run=^TestHelperScan$")
	cmd.Env = []string{"GOMAINT_BUILDFAIL_HELPER=" + string(req), "PATH=" + os.Getenv("PATH")}
	cmd.Dir, cmd.SysProcAttr = u.Home, u.Attr()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper as %s: %v\n%s%s", u.Name, err, out, stderr.Bytes())
	}
	var res result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("helper as %s: %v\n%s", u.Name, err, out)
	}
	return res
}

// TestHelperScan is scanAs's other side, run as the user.
func TestHelperScan(t *testing.T) {
	req := os.Getenv("GOMAINT_BUILDFAIL_HELPER")
	if req == "" {
		return
	}
	var r run
	if err := json.Unmarshal([]byte(req), &r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	res, err := r.do()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	json.NewEncoder(os.Stdout).Encode(res)
	os.Exit(0)
}

// want holds res to exactly the reasons given, each Failure filled in,
// the line it keeps one go printed, its cause naming mention.
func want(t *testing.T, res result, mention string, reasons ...string) {
	t.Helper()
	var got []string
	for _, f := range res.Failures {
		got = append(got, f.Reason)
		if f.Cause == "" || f.Fix == "" || !strings.Contains(res.Stderr, f.Line+"\n") {
			t.Errorf("%s: cause %q, fix %q, line %q not one go printed", f.Reason, f.Cause, f.Fix, f.Line)
		}
		if !strings.Contains(f.Cause, mention) {
			t.Errorf("%s: cause %q does not name %q", f.Reason, f.Cause, mention)
		}
	}
	if !res.Failed {
		t.Errorf("go succeeded:\n%s", res.Stderr)
	}
	if !slices.Equal(got, reasons) {
		t.Errorf("reasons %q, want %q; go printed:\n%s", got, reasons, res.Stderr)
	}
	if t.Failed() {
		t.Logf("go printed:\n%s", res.Stderr)
	}
}

// writeModule writes a module with files into dir/name and returns it.
func writeModule(t *testing.T, dir, name string, files map[string]string) string {
	t.Helper()
	src := filepath.Join(dir, name)
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(src, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

const goMod = "module example.com/bf\n\ngo 1.22\n"

// jsonMain needs standard packages that fmt's build does not index.
func jsonMain(t *testing.T, dir string) string {
	return testenv.StdModule(t, dir, "json", "encoding/json")
}

// leaf is a package with no imports: go compiles it at once.
func leaf(t *testing.T, dir, body string) string {
	return writeModule(t, dir, "src-leaf", map[string]string{"go.mod": goMod, "p.go": "package p\n\n" + body})
}
