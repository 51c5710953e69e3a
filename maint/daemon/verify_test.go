package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/testenv"
)

// The verification schedules are planned from the configuration like the
// others: by default daily and weekly, with the jitter.
func TestVerifySchedules(t *testing.T) {
	now := time.Date(2025, 3, 5, 12, 0, 0, 0, time.Local) // a Wednesday
	d := &daemon{scheds: newSchedules(config.Default(config.User).Daemon, false, now)}
	if next := d.next(jobVerify); next.Before(now.Add(12*time.Hour)) || next.After(now.Add(12*time.Hour+5*time.Minute)) {
		t.Errorf("next incremental verification at %v, want the next midnight (up to 5m of jitter)", next)
	}
	if next := d.next(jobVerifyFull); next.Before(now.Add(84*time.Hour)) || next.After(now.Add(84*time.Hour+5*time.Minute)) {
		t.Errorf("next full verification at %v, want Sunday midnight (up to 5m of jitter)", next)
	}
}

// TestDaemonVerifies: a verification by the daemon of a real module cache
// with one byte changed puts MODULE_MODIFIED into that target's status and
// gomaint_findings, with the verify counters; an audit leaves it there,
// the next verification after the file is restored clears it. The
// daemon's threads are not left at idle I/O priority, and a GOROOT
// without a baseline is journaled once, not at every run.
func TestDaemonVerifies(t *testing.T) {
	cache, _, _ := testenv.ModCache(t)
	cfg := quiet(config.Target{Name: "mod", Kind: config.Mod, Path: cache, Mode: "private"})
	cfg.Daemon.MetricsDir = t.TempDir()
	d := runDaemon(t, cfg)
	ask := func(command string) *Response { t.Helper(); return d.ask(t, command) }
	findings := func() (codes []string) {
		t.Helper()
		for _, f := range d.target(t).Findings {
			codes = append(codes, f.Code.String())
		}
		return codes
	}
	// The daemon answers, then writes gomaint.prom: wait for what the
	// run must write.
	prom := func(done func(metrics.Snapshot) bool) metrics.Snapshot {
		t.Helper()
		var s metrics.Snapshot
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if s, _ = metrics.Read(cfg.Daemon.MetricsDir); len(s.Targets) == 1 && done(s) {
				break
			}
		}
		return s
	}
	modified := func(s metrics.Snapshot) int {
		n := 0
		for _, f := range s.Findings {
			if f.Target == "mod" && f.Code == "MODULE_MODIFIED" && f.Severity == "error" {
				n += f.Count
			}
		}
		return n
	}

	p := filepath.Join(cache, testenv.ModTomlDir, "decode.go")
	b := testenv.FlipByte(t, p)
	resp := ask(jobVerify)
	if len(resp.Findings) != 1 || resp.Findings[0].Code.String() != "MODULE_MODIFIED" || !strings.Contains(resp.Findings[0].Detail, testenv.ModToml) {
		t.Fatalf("verification answered %+v", resp.Findings)
	}
	if got := findings(); !strings.Contains(strings.Join(got, " "), "MODULE_MODIFIED") {
		t.Errorf("status findings %v", got)
	}
	s := prom(func(s metrics.Snapshot) bool { return s.Targets[0].VerifyModules != nil })
	if modified(s) != 1 || s.Targets[0].VerifyModules["modified"] != 1 || s.Targets[0].VerifyModules["ok"] != 1 || !s.Targets[0].LastVerifySuccess.IsZero() {
		t.Errorf("gomaint.prom after MODULE_MODIFIED: %+v", s)
	}
	if idle := testenv.IdleThreadsLeft(t); len(idle) > 0 {
		t.Errorf("threads %v of the daemon left at idle I/O priority", idle)
	}

	ask(jobAudit)
	if got := findings(); !strings.Contains(strings.Join(got, " "), "MODULE_MODIFIED") {
		t.Errorf("an audit dropped the verification's finding: %v", got)
	}

	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if resp := ask(jobVerifyFull); len(resp.Findings) != 0 {
		t.Errorf("restored, the verification answered %+v", resp.Findings)
	}
	if got := findings(); strings.Contains(strings.Join(got, " "), "MODULE_MODIFIED") {
		t.Errorf("status findings %v after the version was restored", got)
	}
	s = prom(func(s metrics.Snapshot) bool { return s.Targets[0].VerifyModules["ok"] > 1 })
	if modified(s) != 0 || s.Targets[0].VerifyModules["ok"] != 3 || s.Targets[0].LastVerifySuccess.IsZero() {
		t.Errorf("gomaint.prom after restoring: %+v", s)
	}

	notes := 0
	for _, e := range d.events.Snapshot() {
		if e.Type == journal.VerifyIncomplete && e.Fields["GOMAINT_GOROOT"] != "" {
			notes++
		}
	}
	if st := ask("status").Status; st.GOROOTVerify == "" || notes != 1 && strings.HasPrefix(st.GOROOTVerify, "not verified") {
		t.Errorf("GOROOT: status %q, %d journal notes over two verifications", st.GOROOTVerify, notes)
	}
}
