// The systemd units as packaged: systemd-analyze verify and security, and
// the settings other parts of gomaint rely on.

package packaging

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// overlayRun runs a shell script in a private mount namespace in which the
// unpacked package's /usr/bin and man pages lie over the host's, so
// systemd-analyze finds /usr/bin/gomaint and gomaint(8) as installed,
// while the host stays untouched.
func overlayRun(t *testing.T, root, script string) string {
	t.Helper()
	testenv.Root(t)
	testenv.Command(t, "unshare")
	out, stderr, err := run(nil, "", "unshare", "--mount", "--propagation", "private", "sh", "-ec",
		`mount -t overlay overlay -o lowerdir="$1/usr/bin":/usr/bin /usr/bin
mount -t overlay overlay -o lowerdir="$1/usr/share/man/man8":/usr/share/man/man8 /usr/share/man/man8
`+script, "sh", root)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, stderr)
	}
	return out + stderr
}

func TestUnitsVerify(t *testing.T) {
	testenv.Command(t, "systemd-analyze")
	testenv.Command(t, "man") // verify runs `man gomaint(8)` for Documentation=
	root := extractDeb(t, packages(t)["deb/amd64"])
	out := overlayRun(t, root, `systemd-analyze verify "$1"/usr/lib/systemd/system/gomaint.service "$1"/usr/lib/systemd/system/gomaint-clean.service "$1"/usr/lib/systemd/system/gomaint-clean.timer "$1"/usr/lib/systemd/system/gomaint-alert.service "$1"/usr/lib/systemd/system/gomaint-alert.path "$1"/usr/lib/systemd/system/gomaint-alert.timer
XDG_RUNTIME_DIR=$(mktemp -d) systemd-analyze --user verify "$1"/usr/lib/systemd/user/gomaint.service "$1"/usr/lib/systemd/user/gomaint-clean.service "$1"/usr/lib/systemd/user/gomaint-clean.timer "$1"/usr/lib/systemd/user/gomaint-alert.service "$1"/usr/lib/systemd/user/gomaint-alert.path "$1"/usr/lib/systemd/user/gomaint-alert.timer`)
	if out != "" {
		t.Errorf("systemd-analyze verify said:\n%s", out)
	}
	// The check is real: without the binary, verify fails (unless the
	// host has a gomaint of its own, which the overlay would show).
	if _, err := os.Stat("/usr/bin/gomaint"); err == nil {
		return
	}
	os.Remove(filepath.Join(root, "usr/bin/gomaint"))
	_, _, err := run(nil, "", "unshare", "--mount", "--propagation", "private", "sh", "-ec",
		`mount -t overlay overlay -o lowerdir="$1/usr/bin":/usr/bin /usr/bin
systemd-analyze verify --man=no "$1"/usr/lib/systemd/system/gomaint.service`, "sh", root)
	if err == nil {
		t.Errorf("systemd-analyze verify passed without /usr/bin/gomaint: the check proves nothing")
	}
}

var exposure = regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`)

// TestUnitsExposure: the system services keep systemd-analyze's exposure
// at 2.5 or lower (systemd-timesyncd: 2.3).
func TestUnitsExposure(t *testing.T) {
	testenv.Command(t, "systemd-analyze")
	xdg := t.TempDir()
	for _, c := range []struct {
		unit string
		user bool
		max  float64
	}{
		{"gomaint.service", false, 2.5},
		{"gomaint-clean.service", false, 2.5},
		// The alert sender has the network (its job) but runs as its own
		// user with no capabilities and a read-only system.
		{"gomaint-alert.service", false, 2.5},
		// systemd-analyze rates user services as if they ran as root with
		// every capability; they run as the user with none. The sandbox
		// that needs a namespace would imply PrivateUsers=, which shows
		// root-owned entries (after `sudo go build`) and the gocache group
		// as nobody/nogroup: gomaint's findings would be wrong. This bounds
		// what remains.
		{"user/gomaint.service", true, 6.0},
		{"user/gomaint-clean.service", true, 6.0},
		// The user's alert sender needs the network, which costs 1.0.
		{"user/gomaint-alert.service", true, 6.5},
	} {
		args := []string{"security", "--offline=yes", filepath.Join("..", "units", c.unit)}
		if c.user {
			args = append([]string{"XDG_RUNTIME_DIR=" + xdg, "--user"}, args...)
		}
		out, stderr, _ := run(nil, "", "systemd-analyze", args...)
		m := exposure.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("%s: no exposure level in:\n%s%s", c.unit, out, stderr)
			continue
		}
		score, _ := strconv.ParseFloat(m[1], 64)
		t.Logf("%s: exposure %.1f", c.unit, score)
		if score > c.max {
			t.Errorf("%s: exposure %.1f, above %.1f", c.unit, score, c.max)
		}
	}
}

// unit parses a unit file into section.Key -> values.
func unit(t *testing.T, rel string) map[string][]string {
	t.Helper()
	u := map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(repoFile(t, filepath.Join("units", rel))), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
		default:
			k, v, _ := strings.Cut(line, "=")
			u[section+"."+k] = append(u[section+"."+k], v)
		}
	}
	return u
}

func one(u map[string][]string, key string) string {
	if v := u[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// TestUnitContracts checks what others rely on: the daemon's CLI, notify
// and watchdog, no restart loop on exit 78, directories shared with the
// clean service, and the timer.
func TestUnitContracts(t *testing.T) {
	for rel, want := range map[string]map[string]string{
		"gomaint.service": {
			"Service.Type": "notify", "Service.ExecStart": "/usr/bin/gomaint serve --system",
			"Service.ExecReload": "/bin/kill -HUP $MAINPID", "Service.Restart": "on-failure",
			"Service.RestartPreventExitStatus": "78", "Service.WatchdogSec": "60s",
			"Service.StateDirectory": "gomaint", "Service.RuntimeDirectory": "gomaint",
			"Service.RuntimeDirectoryPreserve": "yes", "Install.WantedBy": "multi-user.target",
			"Service.ReadWritePaths":        "-/var/cache/go -/var/lib/prometheus/node-exporter",
			"Service.CapabilityBoundingSet": "CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID",
			// The heart of the sandbox; the clean service must match it.
			"Service.ProtectSystem": "strict", "Service.ProtectHome": "read-only", "Service.PrivateTmp": "yes",
			"Service.PrivateNetwork": "yes", "Service.RestrictAddressFamilies": "AF_UNIX",
			"Service.NoNewPrivileges": "yes", "Service.SystemCallFilter": "@system-service",
		},
		"gomaint-clean.service": {
			"Service.Type": "oneshot", "Service.ExecStart": "/usr/bin/gomaint clean --system",
			"Service.StateDirectory": "gomaint", "Service.RuntimeDirectory": "gomaint",
			"Service.RuntimeDirectoryPreserve": "yes",
			"Service.ReadWritePaths":           "-/var/cache/go -/var/lib/prometheus/node-exporter",
		},
		"user/gomaint.service": {
			"Service.Type": "notify", "Service.ExecStart": "/usr/bin/gomaint serve",
			"Service.ExecReload": "/bin/kill -HUP $MAINPID", "Service.Restart": "on-failure",
			"Service.RestartPreventExitStatus": "78", "Service.WatchdogSec": "60s",
			"Service.RuntimeDirectory": "gomaint", "Service.RuntimeDirectoryPreserve": "yes",
			"Install.WantedBy": "default.target",
		},
		"user/gomaint-clean.service": {
			"Service.Type": "oneshot", "Service.ExecStart": "/usr/bin/gomaint clean",
			"Service.RuntimeDirectory": "gomaint", "Service.RuntimeDirectoryPreserve": "yes",
		},
		"gomaint-alert.service": {
			"Service.Type": "oneshot", "Service.ExecStart": "/usr/bin/gomaint alert flush --system --wait 4m",
			"Service.User": "gomaint-alert", "Service.ReadWritePaths": "/var/lib/gomaint/alert-spool",
			"Service.CapabilityBoundingSet": "", "Service.RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
		},
		"gomaint-alert.path":         {"Path.PathChanged": "/var/lib/gomaint/alert-spool", "Install.WantedBy": "paths.target"},
		"gomaint-alert.timer":        {"Timer.OnUnitInactiveSec": "10min", "Install.WantedBy": "timers.target"},
		"user/gomaint-alert.service": {"Service.Type": "oneshot", "Service.ExecStart": "/usr/bin/gomaint alert flush --wait 4m"},
		"gomaint-clean.timer": {
			"Timer.OnCalendar": "daily", "Timer.Persistent": "true", "Timer.RandomizedDelaySec": "1h",
			"Install.WantedBy": "timers.target",
		},
		"user/gomaint-clean.timer": {
			"Timer.OnCalendar": "daily", "Timer.Persistent": "true", "Timer.RandomizedDelaySec": "1h",
			"Install.WantedBy": "timers.target",
		},
	} {
		u := unit(t, rel)
		for k, v := range want {
			if got := strings.Join(u[k], " "); got != v {
				t.Errorf("%s: %s=%q, want %q", rel, k, got, v)
			}
		}
		// Without it, a blocked call kills one thread and a Go program hangs.
		if len(u["Service.SystemCallFilter"]) > 0 && one(u, "Service.SystemCallErrorNumber") != "EPERM" {
			t.Errorf("%s: SystemCallFilter= without SystemCallErrorNumber=EPERM", rel)
		}
		// The daemon runs `go env` and `go version` from GOROOT.
		if len(u["Service.NoExecPaths"]) > 0 {
			t.Errorf("%s: NoExecPaths= would stop gomaint running go", rel)
		}
		// The journal's large-entry fallback passes a file from /dev/shm.
		for _, k := range []string{"Service.InaccessiblePaths", "Service.TemporaryFileSystem"} {
			if strings.Contains(strings.Join(u[k], " "), "/dev/shm") {
				t.Errorf("%s: %s hides /dev/shm", rel, k)
			}
		}
	}
	// gomaint clean --system does what the daemon does when no daemon
	// runs: it needs the same sandbox, no more.
	daemon, clean := unit(t, "gomaint.service"), unit(t, "gomaint-clean.service")
	for k := range merge(flat(daemon), flat(clean)) {
		switch {
		case !strings.HasPrefix(k, "Service."):
		case k == "Service.Type", k == "Service.ExecStart", k == "Service.ExecReload", k == "Service.Restart",
			k == "Service.RestartSec", k == "Service.RestartPreventExitStatus", k == "Service.WatchdogSec",
			k == "Service.Nice", k == "Service.IOSchedulingClass", k == "Service.IOSchedulingPriority":
		default:
			if a, b := strings.Join(daemon[k], " "), strings.Join(clean[k], " "); a != b {
				t.Errorf("%s: gomaint.service has %q, gomaint-clean.service %q", k, a, b)
			}
		}
	}
}

func flat(u map[string][]string) map[string]string {
	m := map[string]string{}
	for k, v := range u {
		m[k] = strings.Join(v, " ")
	}
	return m
}
