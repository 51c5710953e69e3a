package daemon

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/alert"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/testenv"
	"golang.org/x/sys/unix"
)

// withRoute adds an alert route to cfg; the daemon only spools, so the
// route is never run here.
func withRoute(cfg *config.Config) *config.Config {
	cfg.Alerts = []config.Alert{{Name: "pager", Exec: []string{"/bin/true"}, Format: config.FormatJSON, MinSeverity: "warning",
		Repeat: config.Duration(4 * time.Hour), RetryFor: config.Duration(time.Hour), Timeout: config.Duration(10 * time.Second)}}
	return cfg
}

// takeSpool empties the spool as the sender would, returning what it held.
func takeSpool(t *testing.T, stateDir string) []*alert.Entry {
	t.Helper()
	s := alert.Spool{Dir: paths.AlertSpool(stateDir)}
	es, bad, err := s.Entries()
	if err != nil || len(bad) > 0 {
		t.Fatalf("spool: %v %v", err, bad)
	}
	for _, e := range es {
		s.Remove(e)
	}
	return es
}

// waitSpool waits until the spool holds an alert, then takes all it holds.
func waitSpool(t *testing.T, stateDir string) []*alert.Entry {
	t.Helper()
	s := alert.Spool{Dir: paths.AlertSpool(stateDir)}
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if n, _ := s.Count(); n > 0 {
			time.Sleep(200 * time.Millisecond) // one run spools all it has at once
			return takeSpool(t, stateDir)
		}
	}
	t.Fatal("nothing spooled within 20s")
	return nil
}

// TestDaemonAlerts: a finding the start-up audit makes is spooled once;
// a restarted daemon does not spool it again; once the cause is gone the
// next audit spools its resolution.
func TestDaemonAlerts(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "build")
	testenv.BuildCache(t, cache, 20, 1000, 48*time.Hour)
	bad := filepath.Join(cache, "ab")
	if err := os.Mkdir(bad, 0o700); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	if err := unix.Chmod(bad, 0o777); err != nil {
		t.Fatal(err)
	}
	cfg := withRoute(quiet(buildTarget(cache, 0, time.Hour)))
	cfg.Alerts[0].Codes = []string{"WORLD_WRITABLE"} // not the findings of a cache under /tmp
	state := t.TempDir()
	stateIn := func(o *Options) { o.StateDir = state }
	d := runDaemon(t, cfg, stateIn)
	es := waitSpool(t, state) // by the start-up audit
	if len(es) != 1 || es[0].Alert.Code != "WORLD_WRITABLE" || es[0].Alert.Status != alert.Firing || es[0].Route != "pager" {
		for _, e := range es {
			t.Logf("spooled %s %s %s: %s", e.Alert.Status, e.Alert.Code, e.Alert.Path, e.Alert.Message)
		}
		t.Fatalf("after the first audit the spool holds %d alerts; want one WORLD_WRITABLE for route pager", len(es))
	}
	d.stop()
	d.exited <- <-d.exited // stopped now; its cleanup reads the status again

	d = runDaemon(t, cfg, stateIn)
	d.await(t, "last audit", 20*time.Second)
	if es := takeSpool(t, state); len(es) != 0 {
		t.Fatalf("a restarted daemon spooled %d alerts again: %+v", len(es), es[0].Alert)
	}
	if err := unix.Chmod(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := Ask(ctx, d.socket, Request{Command: "audit"}); err != nil {
		t.Fatal(err)
	}
	es = waitSpool(t, state)
	if len(es) != 1 || es[0].Alert.Code != "WORLD_WRITABLE" || es[0].Alert.Status != alert.Resolved || es[0].Alert.EndsAt == nil {
		t.Fatalf("after the fix the spool holds %+v; want the resolution of WORLD_WRITABLE", es)
	}
}

// TestGOROOTAlertBeforeExit: a daemon that cannot start for want of
// GOROOT spools its alert before it exits 78, so that the sender, which
// outlives it, tells someone.
func TestGOROOTAlertBeforeExit(t *testing.T) {
	cfg := withRoute(quiet(buildTarget(filepath.Join(t.TempDir(), "build"), 0, time.Hour)))
	cfg.GOROOT = config.GOROOT{Required: true, Path: filepath.Join(t.TempDir(), "no-go")}
	dir := t.TempDir()
	code := Run(context.Background(), Options{Scope: config.User, Environ: []string{"HOME=" + dir}, Sink: journal.Discard{},
		Notify: func(string) {}, Load: func() (*config.Config, error) { return cfg, nil },
		StateDir: filepath.Join(dir, "state"), SocketPath: filepath.Join(dir, "sock"), LockDir: filepath.Join(dir, "locks")})
	if code != ExitConfig {
		t.Fatalf("exit %d, want %d", code, ExitConfig)
	}
	es := takeSpool(t, filepath.Join(dir, "state"))
	if len(es) != 1 || es[0].Alert.Code != "GOROOT_MISSING" || es[0].Alert.Severity != "error" {
		t.Fatalf("spool after the failed start: %+v; want one GOROOT_MISSING at error", es)
	}
}
