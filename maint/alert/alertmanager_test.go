package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/testenv"
	"golang.org/x/sys/unix"
)

// alertmanager starts Debian's prometheus-alertmanager on a free port with
// its own storage, clustering off, notifying the receiver notify at once
// (resolutions too); it returns its base URL once it is ready.
func alertmanager(t *testing.T, notify string) string {
	t.Helper()
	bin := testenv.Command(t, "prometheus-alertmanager")
	dir := t.TempDir()
	config := filepath.Join(dir, "alertmanager.yml")
	yml := fmt.Sprintf(`route:
  receiver: test
  group_by: ['...']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: %s
        send_resolved: true
`, notify)
	if err := os.WriteFile(config, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := deadAddr(t)
	var log bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+config, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager's log:\n%s", log.String())
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager not ready after 30s:\n%s", log.String())
		}
	}
}

// amNotification is what Alertmanager posts to a webhook receiver.
type amNotification struct {
	Status string `json:"status"`
	Alerts []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		EndsAt      time.Time         `json:"endsAt"`
	} `json:"alerts"`
}

// TestAlertmanager: a finding delivered to the real Alertmanager shows up
// in `amtool alert query` with its labels and annotations, active until
// two repeat intervals from now; its resolution ends it, and Alertmanager
// tells its own receivers so, with endsAt at the resolution.
func TestAlertmanager(t *testing.T) {
	amtool := testenv.Command(t, "amtool")
	notified := newReceiver(t)
	base := alertmanager(t, notified.URL+"/am")
	r := sendRoute("am", "alertmanager", base+"/")
	n, now := notifier(t, r)
	*now = time.Now().Truncate(time.Millisecond)
	started := *now
	real := filepath.Join(testenv.Dir(t), "build")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	unix.Chmod(real, 0o777)
	uid := uint32(os.Getuid())
	f := audit.Finding{Code: testWarn, Severity: finding.Warning, Cache: "build", Path: real, Detail: "world-writable", Fix: "chmod o-w " + real}
	tg := []Target{{Name: "build", ConfiguredPath: real, Path: real, Owner: &uid}}
	if _, err := n.Notify([]audit.Finding{f}, tg, CoverAll); err != nil {
		t.Fatal(err)
	}
	mem := &journal.Memory{}
	if res, err := Flush(t.Context(), n.Spool, []Route{r}, FlushOptions{Version: "test", Sink: mem}); err != nil || res.Delivered != 1 {
		t.Fatalf("flush %+v, %v: %+v", res, err, mem.Snapshot())
	}

	query := func() []amAlert {
		t.Helper()
		out := testenv.Run(t, nil, "", amtool, "alert", "query", "--alertmanager.url="+base, "-o", "json", "code=ALERT_TEST_WARN")
		var as []amAlert
		if err := json.Unmarshal([]byte(out), &as); err != nil {
			t.Fatalf("amtool: %q: %v", out, err)
		}
		return as
	}
	as := query()
	if len(as) != 1 {
		t.Fatalf("amtool alert query shows %d alerts: %+v", len(as), as)
	}
	host, _ := os.Hostname()
	a := as[0]
	for k, v := range map[string]string{"alertname": "GomaintFinding", "code": "ALERT_TEST_WARN", "target": "build",
		"severity": "warning", "instance": host, "path": real} {
		if a.Labels[k] != v {
			t.Errorf("label %s=%q; want %q", k, a.Labels[k], v)
		}
	}
	self := userAccount(uid)
	for k, want := range map[string]string{"path": real, "uid": self.String(), "mode": "drwxrwxrwx " + self.Name, "fix": "chmod o-w " + real} {
		if !strings.HasPrefix(a.Annotations[k], want) {
			t.Errorf("annotation %s=%q; want %q…", k, a.Annotations[k], want)
		}
	}
	if !a.StartsAt.Equal(started) || time.Until(a.EndsAt) < 7*time.Hour {
		t.Errorf("startsAt %v endsAt %v; want %v and two repeats (8h) on", a.StartsAt, a.EndsAt, started)
	}
	firing := waitNotification(t, notified, "firing")
	if firing.Alerts[0].Annotations["fix"] != "chmod o-w "+real {
		t.Errorf("Alertmanager notified %+v", firing)
	}

	*now = time.Now().Truncate(time.Millisecond)
	resolvedAt := *now
	if _, err := n.Notify(nil, tg, CoverAll); err != nil {
		t.Fatal(err)
	}
	res, err := Flush(t.Context(), n.Spool, []Route{r}, FlushOptions{Version: "test"})
	if err != nil || res.Delivered != 1 {
		t.Fatalf("flush of the resolution: %+v, %v", res, err)
	}
	resolved := waitNotification(t, notified, "resolved")
	if got := resolved.Alerts[0].EndsAt; !got.Equal(resolvedAt) {
		t.Errorf("resolved endsAt %v; want %v", got, resolvedAt)
	}
	if as := query(); len(as) != 0 {
		t.Errorf("after the resolution amtool still shows %+v", as)
	}
}

// waitNotification waits up to 20s for Alertmanager to notify rc of an
// alert in status.
func waitNotification(t *testing.T, rc *receiver, status string) amNotification {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, r := range rc.got() {
			var m amNotification
			if json.Unmarshal(r.Body, &m) == nil && m.Status == status && len(m.Alerts) == 1 {
				return m
			}
		}
	}
	t.Fatalf("Alertmanager sent no %s notification; it sent %d", status, len(rc.got()))
	return amNotification{}
}
