package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/clean"
	"github.com/gomaint/gomaint/maint/daemon"
	"github.com/gomaint/gomaint/maint/facts"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/repair"
	"github.com/gomaint/gomaint/maint/testenv"
	"github.com/gomaint/gomaint/maint/trim"
)

// Names a cache's users choose: one forges a line of gomaint's stderr
// format, one clears the terminal (issue 13 item 10).
const (
	forgedName = "zz\ngomaint: error: goroot: GOROOT_MISSING forged"
	clearName  = "\x1b[2J"
)

// controlChar returns the first control character of out other than the
// newline that ends each line, or -1.
func controlChar(out string) int {
	return strings.IndexFunc(out, func(r rune) bool { return (r < ' ' && r != '\n') || (r >= 0x7f && r < 0xa0) })
}

// TestHostileNamesEscaped: audit's text report and its stderr event lines
// print both names escaped, each within its own line; --json keeps them
// exact (encoding/json escapes them itself).
func TestHostileNamesEscaped(t *testing.T) {
	dir := testenv.RealCaches(t)
	cache := filepath.Join(dir, "gocache")
	for _, n := range []string{forgedName, clearName} {
		if err := os.WriteFile(filepath.Join(cache, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := writeConfig(t, fmt.Sprintf("[goroot]\nrequired = false\n[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\n", cache))
	r := gomaint(t, nil, "audit", "--config", f, "--log", "stderr")
	for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
		if i := controlChar(out); i >= 0 {
			t.Errorf("%s holds control character %q at %d:\n%s", name, out[i], i, out)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "gomaint: error: goroot: GOROOT_MISSING forged") {
				t.Errorf("%s: a name forged a line: %q", name, line)
			}
		}
		if !strings.Contains(out, `zz\ngomaint: error: goroot: GOROOT_MISSING forged`) || !strings.Contains(out, `\x1b[2J`) {
			t.Errorf("%s does not show the names escaped:\n%s", name, out)
		}
	}
	r = gomaint(t, nil, "audit", "--config", f, "--json", "--log", "none")
	var rep struct {
		Findings []struct{ Code, Detail string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	exact := false
	for _, fd := range rep.Findings {
		exact = exact || fd.Code == "UNEXPECTED_ENTRY" && strings.Contains(fd.Detail, forgedName) && strings.Contains(fd.Detail, clearName)
	}
	if !exact || controlChar(r.stdout) >= 0 {
		t.Errorf("--json lost the exact names or printed them raw:\n%s", r.stdout)
	}
}

// TestProtectRefusesControlCharacters: a cache path holding a newline is
// refused with exit 78 and a message naming the target and the path
// (escaped); the other target is still written, quoted.
func TestProtectRefusesControlCharacters(t *testing.T) {
	dir := testenv.Dir(t)
	good, evil := filepath.Join(dir, "go cache"), filepath.Join(dir, "x\nf+ /pwned")
	for _, d := range []string{good, evil} {
		os.Mkdir(d, 0o755)
	}
	f := writeConfig(t, fmt.Sprintf("[goroot]\nrequired = false\n[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\n[[target]]\nname = \"mod\"\nkind = \"mod\"\npath = %q\n", good, evil))
	env := []string{"XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	r := gomaint(t, env, "protect", "--config", f, "--log", "none")
	data, _ := os.ReadFile(filepath.Join(dir, "config", "user-tmpfiles.d", "gomaint.conf"))
	if r.code != 78 || !strings.Contains(r.stderr, `target mod: path "`+dir+`/x\nf+ /pwned" holds a control character (\n)`) || controlChar(r.stderr) >= 0 {
		t.Errorf("%+v", r)
	}
	if !strings.Contains(string(data), "\nx \""+good+"\"\n") || strings.Contains(string(data), "pwned") {
		t.Errorf("file:\n%s", data)
	}
}

// TestReportsEscapeNames: fix's, clean's and status's text reports print
// the names they carry (samples, first errors, findings) escaped too.
func TestReportsEscapeNames(t *testing.T) {
	var b strings.Builder
	bad := forgedName + clearName
	printRepair(&b, repair.Outcome{Target: "build", Path: "/c", Result: &repair.Result{Links: facts.Sample{Count: 1, Paths: []string{bad}}}}, true, true)
	printOutcome(&b, clean.Outcome{Target: "build", Path: "/c", Result: &trim.Result{Failed: 1, FirstError: "unlink " + bad}}, false)
	printOutcome(&b, clean.Outcome{Target: "mod", Path: "/m", Error: bad}, false)
	unexpected, _ := finding.Lookup("UNEXPECTED_ENTRY")
	printStatus(&b, &daemon.Status{Targets: []daemon.TargetStatus{{Name: "build", Path: "/c", Error: bad,
		Findings: []audit.Finding{{Code: unexpected, Severity: finding.Warning, Detail: bad}}}}}, true)
	out := b.String()
	if i := controlChar(out); i >= 0 {
		t.Errorf("control character %q at %d:\n%s", out[i], i, out)
	}
	if n := strings.Count(out, `zz\ngomaint: error: goroot: GOROOT_MISSING forged\x1b[2J`); n != 5 {
		t.Errorf("%d escaped names, want 5:\n%s", n, out)
	}
}
