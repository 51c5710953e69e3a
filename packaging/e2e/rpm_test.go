//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/journal"
)

// rpmNodeps are the requirements of the .rpm that Debian's rpm cannot
// see met, mapped to the Debian package that meets them: dpkg installed
// them, and rpm's own database (empty in a Debian) knows nothing of dpkg's.
// These, and only these, are why `rpm -i` runs with --nodeps: the test
// first has rpm list what it finds missing, and checks that each is one of
// these and installed.
var rpmNodeps = map[string]string{
	"procps": "procps", // /bin/kill, for ExecReload=
}

// rpmCommand is how to run Debian's rpm in the container. Debian 12's
// warns at every install or erase that dpkg should manage the system
// unless given --force-debian; Debian 13's has neither the warning nor
// the option.
func rpmCommand(t *testing.T, c *container) []string {
	t.Helper()
	if _, code, _ := c.exec(10*time.Second, "rpm", "--force-debian", "--version"); code == 0 {
		return []string{"rpm", "--force-debian"}
	}
	c.run(t, "rpm", "--version")
	return []string{"rpm"}
}

// failedDep is one line of rpm's "Failed dependencies:" list.
var failedDep = regexp.MustCompile(`(?m)^\s+(\S+).* is needed by `)

// TestRPMPackage installs the .rpm with Debian's rpm in a booted Debian of
// each suite, so that its scriptlets (%post, %preun, %postun) run against
// a real systemd as on an rpm distribution: users and tmpfiles, presets,
// daemon-reload, the start, the journal catalog; then an upgrade, and an
// erase that leaves no unit and no process behind and keeps a modified
// configuration as .rpmsave. Fedora's default preset (disable everything
// not named) is in place, so only gomaint's own preset can enable its units.
func TestRPMPackage(t *testing.T) {
	repo, goroot := prerequisites(t)
	built := buildPackages(t, repo, "rpm", version1, version2)
	forEachSuite(t, func(t *testing.T, suite string) {
		c := boot(t, rootfsTarball(t, suite, "rpm"), []string{goroot + ":" + goHost}, func(root string) {
			preset := filepath.Join(root, "usr/lib/systemd/system-preset/99-default-disable.preset")
			if err := os.WriteFile(preset, []byte("disable *\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		})
		rpms := c.put(t, built(t)...)
		rpm := rpmCommand(t, c)
		c.logOnFailure(t)
		// Go where a distribution's package puts it: %post's start succeeds.
		c.sh(t, `ln -sfn `+goHost+` `+goRoot+` && ln -sf `+goRoot+`/bin/go /usr/bin/go`)

		start := time.Now()
		t.Run("rpm -i runs the scriptlets", func(t *testing.T) { testRPMInstall(t, c, rpm, rpms[0]) })
		if _, code, _ := c.exec(10*time.Second, append(rpm, "-q", "gomaint")...); code != 0 {
			t.Fatalf("the package is not installed: nothing else can be tested\n%s", c.out(append(rpm, "-qa")...))
		}
		t.Run("ready event", func(t *testing.T) {
			es := c.waitJournal(t, 15*time.Second, nil, "-u", "gomaint.service", "MESSAGE_ID="+journal.Ready.ID, since(start))
			if len(es) == 0 {
				t.Fatalf("no ready event (MESSAGE_ID=%s) from gomaint.service since rpm -i:\n%s", journal.Ready.ID,
					entries(c.journal(t, "SYSLOG_IDENTIFIER=gomaint", since(start))))
			}
		})
		t.Run("catalog", func(t *testing.T) { testCatalog(t, c, repo, journal.Ready) })
		t.Run("clean timer", func(t *testing.T) { testTimer(t, c) })
		t.Run("rpm -U restarts the daemon", func(t *testing.T) { testRPMUpgrade(t, c, rpm, rpms[1]) })
		t.Run("rpm -e leaves no unit and keeps the config", func(t *testing.T) { testRPMErase(t, c, rpm) })
	})
}

// rpmInstall runs rpm -i or -U on a package with --nodeps, after checking
// that what rpm finds missing is only what rpmNodeps lists, all of it
// installed by dpkg.
func rpmInstall(t *testing.T, c *container, rpm []string, mode, pkg string) {
	t.Helper()
	out, code, err := c.exec(time.Minute, append(rpm, mode, "--test", pkg)...)
	if err != nil {
		t.Fatalf("rpm %s --test %s: %v\n%s", mode, pkg, err, out)
	}
	var missing []string
	for _, m := range failedDep.FindAllStringSubmatch(out, -1) {
		missing = append(missing, m[1])
	}
	var want []string
	for req, deb := range rpmNodeps {
		want = append(want, req)
		if st, _, _ := c.exec(10*time.Second, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}", deb); !strings.HasPrefix(st, "ii") {
			t.Errorf("the rpm's requirement %s is not met: Debian's %s is not installed (dpkg-query: %q)", req, deb, st)
		}
	}
	sort.Strings(missing)
	sort.Strings(want)
	if (code == 0) != (len(want) == 0) || !slices.Equal(missing, want) {
		t.Fatalf("rpm %s --test %s: exit %d, missing %q; want exactly %q, which dpkg provides (rpmNodeps):\n%s",
			mode, pkg, code, missing, want, out)
	}
	started := time.Now()
	out, code, err = c.exec(3*time.Minute, append(rpm, mode, "--nodeps", pkg)...)
	t.Logf("rpm %s took %v", mode, time.Since(started).Round(10*time.Millisecond))
	if code != 0 || err != nil {
		t.Fatalf("rpm %s --nodeps %s: exit %d %v\n%s", mode, pkg, code, err, out)
	}
	if strings.TrimSpace(out) != "" {
		t.Errorf("rpm %s --nodeps %s printed (a scriptlet's complaint?):\n%s", mode, pkg, out)
	}
}

func testRPMInstall(t *testing.T, c *container, rpm []string, pkg string) {
	rpmInstall(t, c, rpm, "-i", pkg)
	// The files as the rpm database has them: sizes, modes, digests.
	if out, code, _ := c.exec(time.Minute, append(rpm, "-V", "--nodeps", "gomaint")...); code != 0 || out != "" {
		t.Errorf("rpm -V --nodeps gomaint after install: exit %d\n%s", code, out)
	}
	// %post: systemd-sysusers, then systemd-tmpfiles --create.
	if out, code, _ := c.exec(10*time.Second, "getent", "group", "gocache"); code != 0 {
		t.Errorf("no group gocache after rpm -i (systemd-sysusers in %%post): %s", out)
	}
	for _, d := range []string{"/var/cache/go/build", "/var/cache/go/mod"} {
		if got := strings.TrimSpace(c.run(t, "stat", "-c", "%a %U:%G", d)); got != "2775 root:gocache" {
			t.Errorf("%s is %q, want 2775 root:gocache (systemd-tmpfiles --create in %%post)", d, got)
		}
		if acl := c.run(t, "getfacl", "-p", d); !strings.Contains(acl, "default:group:gocache:rwx") {
			t.Errorf("%s has no default ACL for gocache (the a+ line of tmpfiles.d):\n%s", d, acl)
		}
	}
	// %post: the preset enables, daemon-reload and start make them run.
	for _, unit := range []string{"gomaint.service", "gomaint-clean.timer"} {
		p := settle(t, c, unit, 20*time.Second)
		if st := c.show(t, unit, "UnitFileState")["UnitFileState"]; st != "enabled" || p["ActiveState"] != "active" {
			t.Errorf("%s after rpm -i: UnitFileState=%s ActiveState=%s (%s), want enabled by 80-gomaint.preset, and started\n%s",
				unit, st, p["ActiveState"], p["Result"], c.out("systemctl", "status", "--no-pager", "-n", "20", unit))
		}
	}
}

func testRPMUpgrade(t *testing.T, c *container, rpm []string, pkg string) {
	// An admin's edit, which the upgrade keeps and the erase saves.
	c.sh(t, `echo '# edited by the end-to-end test' >> /etc/gomaint/gomaint.toml`)
	conf := c.run(t, "cat", "/etc/gomaint/gomaint.toml")
	pid := c.show(t, "gomaint.service", "MainPID")["MainPID"]
	resetStartLimit(t, c)
	start := time.Now()
	rpmInstall(t, c, rpm, "-U", pkg)
	if v := c.run(t, append(rpm, "-q", "--qf", "%{VERSION}", "gomaint")...); v != version2 {
		t.Errorf("after rpm -U the installed version is %q, want %s", v, version2)
	}
	// %postun of the old package: daemon-reload, try-restart.
	p := settle(t, c, "gomaint.service", 20*time.Second)
	if p["ActiveState"] != "active" || p["MainPID"] == pid {
		t.Errorf("gomaint.service after rpm -U: %s, MainPID %s (was %s): want active and restarted\n%s",
			p["ActiveState"], p["MainPID"], pid, c.out("systemctl", "status", "--no-pager", "-n", "20", "gomaint.service"))
	}
	if es := c.waitJournal(t, 15*time.Second, nil, "-u", "gomaint.service", "GOMAINT_EVENT=ready", since(start)); len(es) == 0 {
		t.Errorf("no ready event from the upgraded daemon")
	}
	if v := c.run(t, "gomaint", "version"); !strings.Contains(v, version2) {
		t.Errorf("after rpm -U gomaint version prints %q, want %s", v, version2)
	}
	if st := c.show(t, "gomaint.service", "UnitFileState")["UnitFileState"]; st != "enabled" {
		t.Errorf("gomaint.service is %s after rpm -U, want still enabled", st)
	}
	if got := c.run(t, "cat", "/etc/gomaint/gomaint.toml"); got != conf {
		t.Errorf("rpm -U changed the edited /etc/gomaint/gomaint.toml; it now holds:\n%s", got)
	}
}

func testRPMErase(t *testing.T, c *container, rpm []string) {
	// A configuration the clean rejects (exit 78), so that a unit has
	// failed when the package goes; the daemon keeps running on the one it
	// read at its start.
	c.sh(t, `echo 'no_such_key = 1' >> /etc/gomaint/gomaint.toml`)
	conf := c.run(t, "cat", "/etc/gomaint/gomaint.toml")
	if _, code, _ := c.exec(time.Minute, "systemctl", "start", "gomaint-clean.service"); code == 0 {
		t.Errorf("gomaint-clean.service succeeded with a bad configuration: no failed unit for rpm -e to leave")
	}
	if p := c.show(t, "gomaint.service", "ActiveState"); p["ActiveState"] != "active" {
		t.Errorf("gomaint.service is %s before rpm -e, want active: no process for rpm -e to stop", p["ActiveState"])
	}
	before, err := snapshot(filepath.Join(c.root, "var/cache/go"))
	if err != nil {
		t.Fatal(err)
	}
	out, code, err := c.exec(2*time.Minute, append(rpm, "-e", "gomaint")...)
	saved := "warning: /etc/gomaint/gomaint.toml saved as /etc/gomaint/gomaint.toml.rpmsave"
	if code != 0 || err != nil || strings.TrimSpace(out) != saved {
		t.Fatalf("rpm -e gomaint: exit %d %v, want 0 and only %q:\n%s", code, err, saved, out)
	}
	// No unit file, no unit loaded, no link left of the enabling.
	if out, _, _ := c.exec(30*time.Second, "systemctl", "list-unit-files", "--no-legend", "gomaint*"); strings.TrimSpace(out) != "" {
		t.Errorf("systemctl list-unit-files after rpm -e:\n%s", out)
	}
	if out := c.run(t, "systemctl", "list-units", "--all", "--no-legend", "gomaint*"); strings.TrimSpace(out) != "" {
		t.Errorf("systemctl list-units --all after rpm -e (%%preun disable --now, %%postun daemon-reload):\n%s", out)
	}
	if out := c.run(t, "find", "/etc/systemd", "-name", "gomaint*"); strings.TrimSpace(out) != "" {
		t.Errorf("links left of enabling the units after rpm -e:\n%s", out)
	}
	// No process: the daemon and the clean stopped with their units.
	if out, code, _ := c.exec(10*time.Second, "pgrep", "-a", "gomaint"); code != 1 {
		t.Errorf("gomaint processes after rpm -e (pgrep exit %d):\n%s", code, out)
	}
	exists := func(p string) bool { _, err := os.Lstat(filepath.Join(c.root, p)); return err == nil }
	for _, p := range []string{"usr/bin/gomaint", "etc/gomaint/gomaint.toml", "var/lib/gomaint", "run/gomaint"} {
		if exists(p) {
			t.Errorf("/%s is still there after rpm -e", p)
		}
	}
	if b, err := os.ReadFile(filepath.Join(c.root, "etc/gomaint/gomaint.toml.rpmsave")); err != nil || string(b) != conf {
		t.Errorf("the edited configuration was not kept as /etc/gomaint/gomaint.toml.rpmsave (%v); it holds:\n%s", err, b)
	}
	// %postun rebuilt the catalog without gomaint's entries.
	if out, _, _ := c.exec(10*time.Second, "journalctl", "--dump-catalog", journal.Ready.ID); strings.Contains(out, "Defined-By: gomaint") {
		t.Errorf("the journal catalog still explains gomaint's ready event after rpm -e:\n%s", out)
	}
	after, err := snapshot(filepath.Join(c.root, "var/cache/go"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffSnapshots(before, after); diff != "" {
		t.Errorf("rpm -e changed the caches in /var/cache/go:\n%s", diff)
	}
}
