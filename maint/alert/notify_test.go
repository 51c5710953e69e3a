package alert

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/journal"
	"golang.org/x/sys/unix"
)

var (
	testWarn  = finding.Declare(finding.Decl{Name: "ALERT_TEST_WARN", Lowest: finding.Info, Highest: finding.Error, ID: "00000000000000000000000000000001", Event: "test", Summary: "a test finding"})
	testOther = finding.Declare(finding.Decl{Name: "ALERT_TEST_OTHER", Lowest: finding.Info, Highest: finding.Error, ID: "00000000000000000000000000000002", Event: "test", Summary: "another test finding"})
)

// notifier is a Notifier over fresh directories, with a clock the test moves.
func notifier(t *testing.T, routes ...Route) (*Notifier, *time.Time) {
	t.Helper()
	dir := t.TempDir()
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	locks := filepath.Join(dir, "locks")
	if err := os.Mkdir(locks, 0o700); err != nil {
		t.Fatal(err)
	}
	n := &Notifier{Routes: routes, StateDir: dir, LockDir: locks, Spool: Spool{Dir: filepath.Join(dir, "spool")},
		Sink: &journal.Memory{}, Version: "test", Now: func() time.Time { return now }}
	return n, &now
}

func route(name string, sev finding.Severity, codes ...string) Route {
	return Route{Name: name, Format: "json", URL: "http://127.0.0.1:1/x", MinSeverity: sev, Codes: codes, Repeat: 4 * time.Hour, RetryFor: time.Hour, Timeout: time.Second}
}

// spooled reads the spool and empties it, as a sender would.
func spooled(t *testing.T, n *Notifier) []*Entry {
	t.Helper()
	es, bad, err := n.Spool.Entries()
	if err != nil || len(bad) > 0 {
		t.Fatalf("spool: %v %v", err, bad)
	}
	for _, e := range es {
		if err := n.Spool.Remove(e); err != nil {
			t.Fatal(err)
		}
	}
	return es
}

// TestNotifyLifecycle: a finding fires once when it appears, not again
// while it stays within the repeat interval, again after it, and once more
// when it is resolved; each alert has its own ID.
func TestNotifyLifecycle(t *testing.T) {
	n, now := notifier(t, route("chat", finding.Warning))
	dir := t.TempDir()
	f := audit.Finding{Code: testWarn, Severity: finding.Warning, Cache: "build", Path: dir, Detail: "world-writable", Fix: "chmod o-w " + dir}
	tg := []Target{{Name: "build", ConfiguredPath: dir, Path: dir}}
	ids := map[string]bool{}
	step := func(name string, fs []audit.Finding, wantStatus ...string) {
		t.Helper()
		if _, err := n.Notify(fs, tg, CoverAll); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		es := spooled(t, n)
		if len(es) != len(wantStatus) {
			t.Fatalf("%s: %d alerts spooled, want %d", name, len(es), len(wantStatus))
		}
		for i, e := range es {
			if e.Alert.Status != wantStatus[i] || e.Route != "chat" || e.Alert.Code != "ALERT_TEST_WARN" {
				t.Errorf("%s: spooled %s %s to %s", name, e.Alert.Status, e.Alert.Code, e.Route)
			}
			if ids[e.Alert.ID] {
				t.Errorf("%s: alert ID %s used twice", name, e.Alert.ID)
			}
			ids[e.Alert.ID] = true
		}
	}
	step("appears", []audit.Finding{f}, Firing)
	*now = now.Add(time.Hour)
	step("stays", []audit.Finding{f}, nil...)
	*now = now.Add(4 * time.Hour)
	step("stays past repeat", []audit.Finding{f}, Firing)
	step("resolved", nil, Resolved)
	step("stays resolved", nil, nil...)
	step("appears again", []audit.Finding{f}, Firing)
}

// TestNotifyRestart: the state is in the state directory, so a new
// Notifier (a restarted daemon, the next CLI run) does not fire again.
func TestNotifyRestart(t *testing.T) {
	n, _ := notifier(t, route("chat", finding.Warning))
	f := audit.Finding{Code: testWarn, Severity: finding.Warning, Cache: "build", Path: "/nonexistent/build"}
	if c, err := n.Notify([]audit.Finding{f}, nil, CoverAll); err != nil || c != 1 {
		t.Fatalf("first run: %d spooled, %v", c, err)
	}
	again := *n
	if c, err := again.Notify([]audit.Finding{f}, nil, CoverAll); err != nil || c != 0 {
		t.Fatalf("after a restart: %d spooled, %v; want none", c, err)
	}
}

// TestNotifyFilters: min_severity and codes choose what a route gets; a
// rise in severity fires at once; what a run does not cover is not resolved.
func TestNotifyFilters(t *testing.T) {
	n, _ := notifier(t, route("errors", finding.Error), route("other", finding.Info, "ALERT_TEST_OTHER"))
	warn := audit.Finding{Code: testWarn, Severity: finding.Warning, Cache: "build", Path: "/x"}
	other := audit.Finding{Code: testOther, Severity: finding.Info, Cache: "mod", Path: "/y"}
	n.Notify([]audit.Finding{warn, other}, nil, CoverAll)
	es := spooled(t, n)
	if len(es) != 1 || es[0].Route != "other" || es[0].Alert.Code != "ALERT_TEST_OTHER" {
		t.Fatalf("spooled %+v; want only ALERT_TEST_OTHER to route other", es)
	}
	warn.Severity = finding.Error
	n.Notify([]audit.Finding{warn, other}, nil, CoverAll)
	if es := spooled(t, n); len(es) != 1 || es[0].Route != "errors" || es[0].Alert.Severity != "error" {
		t.Fatalf("after the rise to error: %+v; want one alert to route errors", es)
	}
	onlyBuild := func(target string, _ finding.Code) bool { return target == "build" }
	n.Notify([]audit.Finding{warn}, nil, onlyBuild) // mod was not looked at
	if es := spooled(t, n); len(es) != 0 {
		t.Fatalf("a run that did not cover mod resolved its finding: %+v", es)
	}
	n.Notify(nil, nil, CoverAll)
	es = spooled(t, n)
	if len(es) != 2 {
		t.Fatalf("resolving both: %d alerts, want 2", len(es))
	}
	for _, e := range es {
		if e.Alert.Status != Resolved || e.Alert.EndsAt == nil {
			t.Errorf("%s: status %s, ends %v", e.Route, e.Alert.Status, e.Alert.EndsAt)
		}
	}
}

// TestNotifyContent: the alert carries the real path beside the configured
// one, a snapshot of the inode, the affected user and the host.
func TestNotifyContent(t *testing.T) {
	n, _ := notifier(t, route("chat", finding.Warning))
	real := t.TempDir()
	if err := unix.Chmod(real, 0o2777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "cache")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	uid := uint32(os.Getuid())
	f := audit.Finding{Code: testWarn, Severity: finding.Warning, Cache: "build", Path: link, Detail: "d", Fix: "x"}
	n.Notify([]audit.Finding{f}, []Target{{Name: "build", ConfiguredPath: link, Path: real, Owner: &uid}}, CoverAll)
	es := spooled(t, n)
	if len(es) != 1 {
		t.Fatalf("%d alerts", len(es))
	}
	a := es[0].Alert
	if a.Path != real || a.ConfiguredPath != link {
		t.Errorf("path %q configured %q; want %q and %q", a.Path, a.ConfiguredPath, real, link)
	}
	if a.Mode == nil || a.Mode.Mode != "drwxrwsrwx" || !a.Mode.Setgid || a.Mode.Octal != "2777" || a.Mode.Type != "directory" {
		t.Errorf("snapshot %+v; want drwxrwsrwx, setgid, 2777", a.Mode)
	}
	if a.UID == nil || a.UID.ID != uid || a.UID.Name == "" {
		t.Errorf("uid %+v; want %d with a name", a.UID, uid)
	}
	host, _ := os.Hostname()
	if a.Host != host || a.MachineID == "" && fileExists("/etc/machine-id") || a.Version != "test" || a.Schema != Schema {
		t.Errorf("host %q machine %q version %q schema %d", a.Host, a.MachineID, a.Version, a.Schema)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
