package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

type verifyJSON struct {
	Caches []struct {
		Target                      string
		Versions, Hashed, Unchanged int64
	} `json:"caches"`
	Findings []struct{ Code, Severity, Module, Path, Fix string } `json:"findings"`
}

func verifyRun(t *testing.T, env []string, args ...string) (verifyJSON, result) {
	t.Helper()
	return parseVerify(t, gomaint(t, env, append([]string{"verify", "--json", "--log", "none"}, args...)...))
}

// parseVerify reads gomaint verify --json's report from r.
func parseVerify(t *testing.T, r result) (verifyJSON, result) {
	t.Helper()
	var rep verifyJSON
	if r.code != exitConfig && r.code != exitUsage {
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("exit %d, not JSON: %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
		}
	}
	return rep, r
}

// TestVerifyCLI: exit statuses and incremental runs of gomaint verify on a
// module cache filled by real go commands: 0 clean, the second run hashes
// nothing, 1 for a changed file, --full hashes all, 2 and 78 for usage and
// configuration errors. Only the mod target is verified.
func TestVerifyCLI(t *testing.T) {
	dir := testenv.RealCaches(t)
	f := writeConfig(t, fmt.Sprintf("[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\n\n[[target]]\nname = \"mod\"\nkind = \"mod\"\npath = %q\n",
		filepath.Join(dir, "gocache"), filepath.Join(dir, "gomodcache")))
	env := []string{"STATE_DIRECTORY=" + testenv.Dir(t)}

	rep, r := verifyRun(t, env, "--config", f)
	if r.code != exitOK || len(rep.Caches) != 1 || rep.Caches[0].Target != "mod" || rep.Caches[0].Versions == 0 ||
		rep.Caches[0].Hashed != rep.Caches[0].Versions || rep.Findings == nil || len(rep.Findings) != 0 {
		t.Fatalf("first run: exit %d %+v\n%s", r.code, rep, r.stderr)
	}
	n := rep.Caches[0].Versions
	if rep, r = verifyRun(t, env, "--config", f); r.code != exitOK || rep.Caches[0].Hashed != 0 || rep.Caches[0].Unchanged != n {
		t.Fatalf("second run hashed again: exit %d %+v", r.code, rep)
	}

	file := filepath.Join(dir, "gomodcache", "github.com", "google", "uuid@v1.6.0", "uuid.go")
	os.Chmod(filepath.Dir(file), 0o755)
	os.Chmod(file, 0o644)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, r = verifyRun(t, env, "--config", f)
	if r.code != exitFindings || len(rep.Findings) != 1 || rep.Findings[0].Code != "MODULE_MODIFIED" ||
		rep.Findings[0].Module != "github.com/google/uuid@v1.6.0" || rep.Caches[0].Hashed != 1 {
		t.Fatalf("changed file: exit %d %+v", r.code, rep)
	}
	if rep, r = verifyRun(t, env, "--config", f, "--full", "--target", "mod"); r.code != exitFindings || rep.Caches[0].Hashed != n {
		t.Fatalf("--full: exit %d %+v", r.code, rep)
	}
	if _, r = verifyRun(t, env, "--config", f, "--fail-on", "bogus"); r.code != exitUsage {
		t.Errorf("--fail-on bogus: exit %d", r.code)
	}
	bad := writeConfig(t, "[[target]]\nname = 1\n")
	if _, r = verifyRun(t, env, "--config", bad); r.code != exitConfig {
		t.Errorf("bad configuration: exit %d, want 78", r.code)
	}
}

// TestVerifyKeepsMetrics: without a daemon, gomaint verify lays its counts
// over gomaint.prom: counters add up over runs, the success time is set
// only by a run without an error finding, and MODULE_MODIFIED shows in
// gomaint_findings until a verification no longer finds it.
func TestVerifyKeepsMetrics(t *testing.T) {
	cache, _, _ := testenv.ModCache(t)
	prom := t.TempDir()
	f := writeConfig(t, fmt.Sprintf("[daemon]\nmetrics_dir = %q\n[[target]]\nname = \"mod\"\nkind = \"mod\"\npath = %q\n", prom, cache))
	env := append(serveEnv(t, newNotifySocket(t)), "STATE_DIRECTORY="+testenv.Dir(t))
	value := func(sample string) float64 {
		t.Helper()
		text, err := os.ReadFile(filepath.Join(prom, "gomaint.prom"))
		if err != nil {
			t.Fatal(err)
		}
		v, ok := promValue(string(text), sample)
		if !ok {
			t.Fatalf("no %s in\n%s", sample, text)
		}
		return v
	}
	const ok, modified = `gomaint_verify_modules_total{target="mod",result="ok"}`, `gomaint_verify_modules_total{target="mod",result="modified"}`
	const finding = `gomaint_findings{target="mod",code="MODULE_MODIFIED",severity="error"}`
	const success = `gomaint_verify_last_success_timestamp_seconds{target="mod"}`

	if _, r := verifyRun(t, env, "--config", f); r.code != exitOK {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	first := value(success)
	if value(ok) != 2 || value(modified) != 0 || value(finding) != 0 {
		t.Errorf("after a clean run: ok %v, modified %v, finding %v", value(ok), value(modified), value(finding))
	}

	p := filepath.Join(cache, testenv.ModTomlDir, "decode.go")
	b := testenv.FlipByte(t, p)
	if _, r := verifyRun(t, env, "--config", f); r.code != exitFindings {
		t.Fatalf("changed file: exit %d\n%s", r.code, r.stderr)
	}
	if value(ok) != 3 || value(modified) != 1 || value(finding) != 1 || value(success) != first {
		t.Errorf("after MODULE_MODIFIED: ok %v, modified %v, finding %v, success %v (was %v)", value(ok), value(modified), value(finding), value(success), first)
	}

	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, r := verifyRun(t, env, "--config", f); r.code != exitOK {
		t.Fatalf("restored: exit %d\n%s", r.code, r.stderr)
	}
	if value(finding) != 0 || value(ok) != 5 || value(success) < first {
		t.Errorf("after restoring: ok %v, finding %v", value(ok), value(finding))
	}
}
