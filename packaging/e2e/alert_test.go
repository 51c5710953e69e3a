//go:build e2e

package e2e

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/alert"
	"github.com/gomaint/gomaint/maint/testenv"
)

// The alert route the test configures: gomaint's JSON to a receiver in the
// container, the URL in a file only the sender's user can read.
const alertConfig = `[goroot]
required = true
path = "/usr/local/go"

[[target]]
name = "build"
kind = "build"
path = "/var/cache/go/build"
mode = "shared"
group = "gocache"

[[alert]]
name = "hook"
webhook_file = "/etc/gomaint/hook.url"
format = "json"
min_severity = "warning"
`

// freeAddr is a loopback address no one listens on: containers share the
// host's network, and another test run may have a receiver of its own.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestAlerts installs the package with an [[alert]] route and a receiver
// in the booted container (issue 15): the daemon that cannot start for a
// missing GOROOT spools an alert before it exits 78, and the packaged
// gomaint-alert.path starts gomaint-alert.service, which delivers it as
// the unprivileged gomaint-alert user although the receiver refuses the
// first attempt; once Go is there, a world-writable entry in the shared
// cache fires exactly one alert naming its owner, real path and mode, and
// the GOROOT alert is resolved. It boots its own container:
//
//	go test -tags e2e -count=1 -run TestAlerts -timeout 15m ./packaging/e2e/
func TestAlerts(t *testing.T) {
	repo, goroot := prerequisites(t)
	debs := buildPackages(t, repo, "deb", version1)
	receiver := filepath.Join(testenv.Dir(t), "receiver")
	testenv.Run(t, append(os.Environ(), "CGO_ENABLED=0"), filepath.Join(repo, "packaging", "e2e", "testdata", "receiver"), "go", "build", "-o", receiver, ".")
	c := boot(t, rootfsTarball(t, baseSuite), []string{goroot + ":" + goHost}, nil)
	deb := c.put(t, append(debs(t), receiver)...)[0]
	c.logOnFailure(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the alert units and spool:\n%s\n%s\n%s", c.out("systemctl", "status", "--no-pager", "-n", "20", "gomaint-alert.service", "gomaint-alert.path", "receiver.service"),
				c.out("gomaint", "alert", "list", "--system"), c.out("journalctl", "--no-pager", "-o", "short-precise", "-n", "40", "GOMAINT_EVENT=alert"))
		}
	})
	c.run(t, "chmod", "0755", "/root/e2e/receiver")
	receiverAddr := freeAddr(t)
	// The receiver refuses the first attempt: the first alert arrives by a retry.
	c.run(t, "systemd-run", "--unit=receiver", "/root/e2e/receiver", "-listen", receiverAddr, "-out", "/root/e2e/received.jsonl", "-fail", "1")
	if out, code, err := c.exec(3*time.Minute, "dpkg", "-i", deb); code != 0 || err != nil {
		t.Fatalf("dpkg -i: exit %d %v\n%s", code, err, out)
	}
	c.sh(t, `printf '%s\n' 'http://`+receiverAddr+`/hook' > /etc/gomaint/hook.url
chown gomaint-alert /etc/gomaint/hook.url && chmod 0600 /etc/gomaint/hook.url
cat > /etc/gomaint/gomaint.toml <<'EOF'
`+alertConfig+`EOF`)
	if p := c.show(t, "gomaint-alert.path", "ActiveState", "UnitFileState"); p["ActiveState"] != "active" || p["UnitFileState"] != "enabled" {
		t.Errorf("gomaint-alert.path after install: %v, want active and enabled", p)
	}

	// No Go: the daemon exits 78, and its alert is delivered.
	c.exec(time.Minute, "systemctl", "restart", "gomaint.service")
	got := waitReceived(t, c, 90*time.Second, func(as []alert.Alert) bool { return count(as, "GOROOT_MISSING", alert.Firing) > 0 })
	if n := count(got, "GOROOT_MISSING", alert.Firing); n != 1 {
		t.Errorf("GOROOT_MISSING delivered %d times, want once (the receiver refused the first attempt)", n)
	}
	// The run ends once the spool is empty, and without an error: it could
	// write the failed attempt back to the spool (its sandbox denies chown).
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		p := c.show(t, "gomaint-alert.service", "ActiveState", "ExecMainStatus")
		if p["ActiveState"] != "activating" {
			if p["ExecMainStatus"] != "0" {
				t.Errorf("gomaint-alert.service exited %s after delivering:\n%s", p["ExecMainStatus"], c.out("journalctl", "--no-pager", "-u", "gomaint-alert.service"))
			}
			break
		}
		if time.Now().After(end) {
			t.Fatalf("gomaint-alert.service still running 30s after the spool was delivered")
		}
	}
	if es := c.journal(t, "GOMAINT_EVENT=alert", "GOMAINT_OUTCOME=delivered", "_SYSTEMD_UNIT=gomaint-alert.service"); len(es) == 0 {
		t.Errorf("no delivered event from gomaint-alert.service in the journal")
	} else if e := es[0]; e["_UID"] == "0" || e["GOMAINT_ROUTE"] != "hook" || strings.Contains(e.String(), receiverAddr+"/hook") {
		t.Errorf("delivery event %s: want a non-root sender, route hook, and no URL path", e)
	}

	// Go arrives, and a user leaves a world-writable directory in the
	// shared cache.
	c.sh(t, "ln -sfn "+goHost+" /usr/local/go && useradd -m alice && install -d -o alice -g gocache -m 0777 /var/cache/go/build/ab")
	c.exec(time.Minute, "systemctl", "reset-failed", "gomaint.service")
	if out, code, err := c.exec(time.Minute, "systemctl", "restart", "gomaint.service"); code != 0 || err != nil {
		t.Fatalf("gomaint.service with Go: exit %d %v\n%s", code, err, out)
	}
	got = waitReceived(t, c, 90*time.Second, func(as []alert.Alert) bool {
		return count(as, "WORLD_WRITABLE", alert.Firing) > 0 && count(as, "GOROOT_MISSING", alert.Resolved) > 0
	})
	var ww *alert.Alert
	for i := range got {
		if got[i].Code == "WORLD_WRITABLE" {
			if ww != nil {
				t.Errorf("WORLD_WRITABLE delivered twice: %s and %s", ww.ID, got[i].ID)
			}
			ww = &got[i]
		}
	}
	if ww.Path != "/var/cache/go/build/ab" || ww.UID == nil || ww.UID.Name != "alice" || ww.Mode == nil || !strings.HasPrefix(ww.Mode.Mode, "drwxrwsrwx") || !strings.Contains(ww.Mode.ACL, "group:gocache:rwx") ||
		ww.Mode.Group.Name != "gocache" || ww.Target != "build" || ww.Severity != "error" || !strings.Contains(ww.Fix, "chmod") || ww.Host == "" || ww.MachineID == "" {
		b, _ := json.MarshalIndent(ww, "", "  ")
		t.Errorf("the WORLD_WRITABLE alert lacks what an operator needs (path, alice, drwxrwsrwx gocache with its ACL, fix, host):\n%s", b)
	}
	// A restart does not fire again.
	c.exec(time.Minute, "systemctl", "restart", "gomaint.service")
	time.Sleep(5 * time.Second)
	c.exec(time.Minute, "systemctl", "start", "gomaint-alert.service")
	if n := count(received(t, c), "WORLD_WRITABLE", alert.Firing); n != 1 {
		t.Errorf("after a daemon restart WORLD_WRITABLE was delivered %d times in all, want once", n)
	}
}

// received reads what the receiver has been sent.
func received(t *testing.T, c *container) []alert.Alert {
	data, err := os.ReadFile(filepath.Join(c.root, "root", "e2e", "received.jsonl"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var as []alert.Alert
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var a alert.Alert
		if line != "" && json.Unmarshal([]byte(line), &a) == nil {
			as = append(as, a)
		}
	}
	return as
}

func waitReceived(t *testing.T, c *container, timeout time.Duration, ok func([]alert.Alert) bool) []alert.Alert {
	t.Helper()
	for end := time.Now().Add(timeout); ; time.Sleep(time.Second) {
		as := received(t, c)
		if ok(as) {
			return as
		}
		if time.Now().After(end) {
			t.Fatalf("the receiver did not get the alerts within %v; it has %d:\n%+v", timeout, len(as), as)
		}
	}
}

func count(as []alert.Alert, code, status string) int {
	n := 0
	for _, a := range as {
		if a.Code == code && a.Status == status {
			n++
		}
	}
	return n
}
