package alert

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/testenv"
	"golang.org/x/sys/unix"
)

// formatsFixture spools, through the real Notifier, a finding about a
// world-writable cache with an ACL whose configured path is a link, to a
// json, a slack and an alertmanager route, each a real HTTP server; then
// its resolution. It returns what each receiver got.
func formatsFixture(t *testing.T) (fire, resolve map[string]received, real, link string, uid uint32) {
	setfacl := testenv.Command(t, "setfacl")
	rcv := map[string]*receiver{}
	var routes []Route
	for _, format := range []string{"json", "slack", "alertmanager"} {
		rcv[format] = newReceiver(t)
		routes = append(routes, sendRoute(format, format, rcv[format].URL+"/hook/"+format))
		routes[len(routes)-1].MinSeverity = finding.Warning
	}
	n, now := notifier(t, routes...)
	real = filepath.Join(testenv.Dir(t), "build")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(real, 0o2777); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, nil, "", setfacl, "-m", "g:0:rwx", real)
	link = filepath.Join(t.TempDir(), "cache")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	uid = uint32(os.Getuid())
	f := audit.Finding{Code: testWarn, Severity: finding.Warning, Cache: "build", Path: link,
		Detail: "the cache is writable by every user <!channel> & more", Fix: "chmod o-w " + real}
	tg := []Target{{Name: "build", ConfiguredPath: link, Path: real, Owner: &uid}}
	take := func() map[string]received {
		t.Helper()
		c := newClock()
		c.t = *now
		res := flush(t, n.Spool, c, &journal.Memory{}, routes...)
		if res.Delivered != 3 || res.Pending != 0 {
			t.Fatalf("flush: %+v; want 3 delivered", res)
		}
		out := map[string]received{}
		for format, r := range rcv {
			got := r.got()
			if len(got) != 1 {
				t.Fatalf("%s receiver got %d requests", format, len(got))
			}
			out[format] = got[0]
			r.mu.Lock()
			r.requests = nil
			r.mu.Unlock()
		}
		return out
	}
	if _, err := n.Notify([]audit.Finding{f}, tg, CoverAll); err != nil {
		t.Fatal(err)
	}
	fire = take()
	*now = now.Add(time.Hour)
	if _, err := n.Notify(nil, tg, CoverAll); err != nil {
		t.Fatal(err)
	}
	resolve = take()
	return fire, resolve, real, link, uid
}

// TestPayloads: each format carries what the issue lists, field by field:
// code, severity, target, message, fix, the affected uid with its name,
// the real path and the configured one, the mode snapshot with its ACL,
// host, machine id, time and version; and the resolution says so.
func TestPayloads(t *testing.T) {
	fire, resolve, real, link, uid := formatsFixture(t)
	host, _ := os.Hostname()
	machine, _ := os.ReadFile("/etc/machine-id")
	machineID := strings.TrimSpace(string(machine))
	self := userAccount(uid)

	t.Run("json", func(t *testing.T) {
		r := fire["json"]
		if r.Path != "/hook/json" || r.UserAgent != "gomaint/9.9" || r.ContentType != "application/json" {
			t.Errorf("request to %s, User-Agent %q, Content-Type %q", r.Path, r.UserAgent, r.ContentType)
		}
		var a Alert
		if err := json.Unmarshal(r.Body, &a); err != nil {
			t.Fatal(err)
		}
		checks := []struct {
			what string
			ok   bool
		}{
			{"schema", a.Schema == Schema}, {"id", len(a.ID) == 32}, {"status", a.Status == Firing},
			{"code", a.Code == "ALERT_TEST_WARN"}, {"severity", a.Severity == "warning"}, {"target", a.Target == "build"},
			{"message", strings.HasPrefix(a.Message, "the cache is writable")}, {"fix", a.Fix == "chmod o-w "+real},
			{"uid", a.UID != nil && *a.UID == self && self.Name != ""},
			{"path", a.Path == real}, {"configured_path", a.ConfiguredPath == link},
			{"mode", a.Mode != nil && a.Mode.Mode == "drwxrwsrwx+" && a.Mode.Octal == "2777" && a.Mode.Owner == self},
			{"acl", a.Mode != nil && strings.Contains(a.Mode.ACL, "group:root:rwx")},
			{"host", a.Host == host}, {"machine_id", a.MachineID == machineID},
			{"time", a.Time.Equal(clockStart)}, {"starts_at", a.StartsAt.Equal(clockStart)}, {"version", a.Version == "test"},
		}
		for _, c := range checks {
			if !c.ok {
				t.Errorf("json payload: wrong %s: %s", c.what, r.Body)
			}
		}
		var gone Alert
		json.Unmarshal(resolve["json"].Body, &gone)
		if gone.Status != Resolved || gone.EndsAt == nil || !gone.EndsAt.Equal(clockStart.Add(time.Hour)) || gone.ID == a.ID || gone.Path != real {
			t.Errorf("resolution: %s", resolve["json"].Body)
		}
	})

	t.Run("slack", func(t *testing.T) {
		var m slackPayload
		if err := json.Unmarshal(fire["slack"].Body, &m); err != nil {
			t.Fatal(err)
		}
		checkSlackLimits(t, &m)
		if len(m.Blocks) != 5 || m.Blocks[0].Type != "header" || m.Blocks[4].Type != "context" {
			t.Fatalf("blocks: %s", fire["slack"].Body)
		}
		if h := m.Blocks[0].Text.Text; h != "WARNING ALERT_TEST_WARN on build" {
			t.Errorf("header %q", h)
		}
		if s := m.Blocks[1].Text.Text; s != "the cache is writable by every user &lt;!channel&gt; &amp; more" {
			t.Errorf("message section %q: the message, escaped", s)
		}
		var mode Snapshot
		json.Unmarshal(fire["json"].Body, &struct{ Mode *Snapshot }{&mode})
		fields := texts(m.Blocks[2].Fields)
		for _, want := range []string{"*Status*\nfiring", "*Path*\n`" + real + "`", "*Configured path*\n`" + link + "`",
			"*Affected user*\n" + self.String(), "*Mode*\n`" + mode.Line() + "`", "*ACL*\n`" + mode.ACL + "`", "*Since*\n2026-12-07T03:00:00Z"} {
			if !slices.Contains(fields, want) {
				t.Errorf("no field %q in %q", want, fields)
			}
		}
		if fix := m.Blocks[3].Text.Text; fix != "*Fix*\n```chmod o-w "+real+"```" {
			t.Errorf("fix block %q", fix)
		}
		ctx := strings.Join(texts(m.Blocks[4].Elements), " | ")
		for _, want := range []string{"host " + host, "machine id " + machineID, "gomaint test", "time 2026-12-07T03:00:00Z", "alert id "} {
			if !strings.Contains(ctx, want) {
				t.Errorf("context %q lacks %q", ctx, want)
			}
		}
		if !strings.HasPrefix(m.Text, "WARNING ALERT_TEST_WARN on build: the cache") {
			t.Errorf("fallback text %q", m.Text)
		}
		var gone slackPayload
		json.Unmarshal(resolve["slack"].Body, &gone)
		if h := gone.Blocks[0].Text.Text; h != "RESOLVED: warning ALERT_TEST_WARN on build" {
			t.Errorf("resolved header %q", h)
		}
		fields = texts(gone.Blocks[2].Fields)
		if !slices.Contains(fields, "*Status*\nRESOLVED") || !slices.Contains(fields, "*Resolved at*\n2026-12-07T04:00:00Z") {
			t.Errorf("resolved fields %q", fields)
		}
	})

	t.Run("alertmanager", func(t *testing.T) {
		r := fire["alertmanager"]
		if r.Path != "/hook/alertmanager/api/v2/alerts" {
			t.Errorf("posted to %s; want the base URL's /api/v2/alerts", r.Path)
		}
		var as []amAlert
		if err := json.Unmarshal(r.Body, &as); err != nil || len(as) != 1 {
			t.Fatalf("%s: %v", r.Body, err)
		}
		a := as[0]
		wantLabels := map[string]string{"alertname": "GomaintFinding", "code": "ALERT_TEST_WARN", "target": "build",
			"severity": "warning", "instance": host, "path": real}
		for k, v := range wantLabels {
			if a.Labels[k] != v {
				t.Errorf("label %s=%q; want %q", k, a.Labels[k], v)
			}
		}
		var mode Snapshot
		json.Unmarshal(fire["json"].Body, &struct{ Mode *Snapshot }{&mode})
		wantNotes := map[string]string{"path": real, "configured_path": link, "uid": self.String(), "mode": mode.Line(),
			"acl": mode.ACL, "fix": "chmod o-w " + real, "machine_id": machineID, "version": "test",
			"summary": "WARNING ALERT_TEST_WARN on build", "message": "the cache is writable by every user <!channel> & more"}
		for k, v := range wantNotes {
			if a.Annotations[k] != v {
				t.Errorf("annotation %s=%q; want %q", k, a.Annotations[k], v)
			}
		}
		if len(a.Annotations["alert_id"]) != 32 || !a.StartsAt.Equal(clockStart) {
			t.Errorf("alert_id %q startsAt %v", a.Annotations["alert_id"], a.StartsAt)
		}
		// Firing: active for two repeat intervals from the attempt.
		if d := time.Until(a.EndsAt); d < 8*time.Hour-time.Minute || d > 8*time.Hour {
			t.Errorf("endsAt %v is %v from now; want 2x repeat (8h)", a.EndsAt, d)
		}
		var gone []amAlert
		json.Unmarshal(resolve["alertmanager"].Body, &gone)
		if len(gone) != 1 || !gone[0].EndsAt.Equal(clockStart.Add(time.Hour)) || gone[0].Labels["path"] != real {
			t.Errorf("resolution: %s; want endsAt at the resolution, same labels", resolve["alertmanager"].Body)
		}
	})
}

func texts(ts []slackText) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Text)
	}
	return out
}
