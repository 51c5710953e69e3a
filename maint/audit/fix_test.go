package audit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestMoveFixWorks: the CACHE_VOLATILE fix names where GOCACHE really
// comes from, and doing what it says makes the real go use a persistent
// cache (issue 12.7). With GOCACHE in the environment, go env -w is
// refused, so the fix must not suggest it.
func TestMoveFixWorks(t *testing.T) {
	gocmd := testenv.Command(t, "go")
	home := testenv.Dir(t)
	volatile := filepath.Join(os.TempDir(), "gomaint-fix-"+filepath.Base(home))
	want := filepath.Join(home, ".cache", "go-build")
	base := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GOTOOLCHAIN=local"}
	goEnv := func(env []string, script string) string {
		t.Helper()
		cmd := exec.Command("sh", "-c", script+"\n"+gocmd+" env GOCACHE")
		cmd.Env, cmd.Dir = env, home
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return lines[len(lines)-1]
	}
	fixFor := func(env []string) string {
		t.Helper()
		r, _ := run(t, config.User, env, tgt("build", config.Build, ""))
		return must(t, r, "CACHE_VOLATILE").Fix
	}

	// 1. In the environment, set by nothing gomaint can see.
	env := append(base, "GOCACHE="+volatile)
	// What the old fix said: go writes the file, warns, and keeps the
	// environment's value.
	if got := goEnv(env, gocmd+" env -w GOCACHE="+want+" 2>&1 | grep -q 'does not override conflicting OS environment variable'"); got != volatile {
		t.Fatalf("go env -w with GOCACHE in the environment: go uses %s", got)
	}
	goEnv(base, gocmd+" env -u GOCACHE")
	fix := fixFor(env)
	cmd, ok := strings.CutPrefix(fix[strings.Index(fix, "e.g. ")+5:], "export ")
	if strings.Contains(fix, "go env -w") || !ok {
		t.Fatalf("environment: fix %q", fix)
	}
	if got := goEnv(env, "export "+cmd); got != want {
		t.Errorf("after %q go uses %s, want %s", cmd, got, want)
	}

	// 2. Set by the user's ~/.profile: the fix names its line.
	profile := filepath.Join(home, ".profile")
	os.WriteFile(profile, []byte("# mine\nexport GOCACHE="+volatile+"\n"), 0o644)
	fix = fixFor(env)
	head, line, ok := strings.Cut(fix, "change that line to ")
	if strings.Contains(fix, "go env -w") || !ok || !strings.Contains(head, profile+":2") {
		t.Fatalf("profile: fix %q", fix)
	}
	line, _, _ = strings.Cut(line, ", then")
	os.WriteFile(profile, []byte("# mine\n"+line+"\n"), 0o644)
	if got := goEnv(base, ". ./.profile"); got != want {
		t.Errorf("after changing %s to %q go uses %s, want %s", profile, line, got, want)
	}
	os.Remove(profile)

	// 3. Written by go env -w into the go env file: go env -w fixes it.
	goEnv(base, gocmd+" env -w GOCACHE="+volatile)
	fix = fixFor(base)
	if !strings.HasPrefix(fix, "go env -w GOCACHE=") {
		t.Fatalf("go env file: fix %q", fix)
	}
	if got := goEnv(base, fix); got != want {
		t.Errorf("after %q go uses %s, want %s", fix, got, want)
	}

	goEnv(base, gocmd+" env -u GOCACHE")

	// GOCACHE=off: removed where it was set.
	goEnv(base, gocmd+" env -w GOCACHE=off")
	r, _ := run(t, config.User, base, tgt("build", config.Build, ""))
	if fix := must(t, r, "CACHE_DISABLED").Fix; fix != "go env -u GOCACHE" || goEnv(base, fix) != want {
		t.Errorf("GOCACHE=off in the go env file: fix %q", fix)
	}
	r, _ = run(t, config.User, append(base, "GOCACHE=off"), tgt("build", config.Build, ""))
	if fix := must(t, r, "CACHE_DISABLED").Fix; strings.Contains(fix, "go env") {
		t.Errorf("GOCACHE=off in the environment: fix %q", fix)
	}
}
