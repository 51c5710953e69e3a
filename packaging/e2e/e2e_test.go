//go:build e2e

// Package e2e installs the built packages in a booted Debian (systemd as
// PID 1 in systemd-nspawn, see ../shared/docs/real-systemd.md) and checks
// what a user of them meets: the units, the journal, the timer,
// systemd-tmpfiles, a lingering user's service, upgrades and removal; the
// .deb with dpkg, the .rpm with Debian's rpm, whose scriptlets then run
// against systemd as on an rpm distribution.
//
// TestDebianPackage and TestRPMPackage run once for each release that
// GOMAINT_E2E_SUITES names (separated by spaces; unset: all of them,
// "bookworm trixie", for systemd 252 and 257). The other tests boot
// Debian 12 (baseSuite), except TestArm64Package: it installs the arm64
// .deb in an arm64 Debian 12 root under qemu (binfmt_misc), chrooted, not
// booted (arm64_test.go says why).
//
// It needs root, systemd-nspawn (systemd-container), nsenter, tar, go and,
// once per week and root file system, debootstrap with access to Debian's
// mirror. Run it with
//
//	go test -tags e2e -count=1 -timeout 30m ./packaging/e2e/
//
// One container boots per test and release (about a second from the
// cached root file system); the subtests run in order against it, each
// building on what the previous ones left: install without Go first, then
// Go arrives, ..., purge last. So run a whole test: -run with one subtest
// is not supported. GOMAINT_E2E_MIRROR names another Debian mirror for
// debootstrap.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/gomaint/gomaint/maint/audit" // declares the audit's finding codes
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/testenv"
)

// The two package versions: the first is installed, reinstalled, then
// upgraded to the second.
const (
	version1 = "0.0.1"
	version2 = "0.0.2"
)

// Where the host's GOROOT appears in the container, and where the
// configuration says GOROOT is: a symlink to it, so that "GOROOT moved
// away" is a rename of the symlink.
const (
	goHost = "/opt/go-host"
	goRoot = "/usr/local/go"
)

// The system configuration the test installs over the package's default.
// watch = false: the over-limit build cache must be trimmed by the packaged
// timer's clean, not by the daemon's live limits before the test gets there.
const systemConfig = `# /etc/gomaint/gomaint.toml, edited by gomaint's end-to-end test.
# An upgrade must keep this file exactly as it is.
[goroot]
required = true
path = "/usr/local/go"

[daemon]
watch = false

[[target]]
name = "build"
kind = "build"
path = "/var/cache/go/build"
max_size = "4MiB"

[[target]]
name = "mod"
kind = "mod"
path = "/var/cache/go/mod"

# A cache on tmpfs: CACHE_VOLATILE.
[[target]]
name = "volatile"
kind = "build"
path = "/var/cache/go/volatile"
`

// The lingering user's configuration: GOROOT (a user manager's PATH has no
// Go either) and a small limit on a build cache whose path is resolved as
// the go command would, in that user's home.
const userConfig = `[goroot]
path = "/usr/local/go"

[[target]]
name = "build"
kind = "build"
max_size = "2MiB"

[[target]]
name = "mod"
kind = "mod"
`

const mib = 1 << 20

func TestDebianPackage(t *testing.T) {
	repo, goroot := prerequisites(t)
	built := buildPackages(t, repo, "deb", version1, version2)
	forEachSuite(t, func(t *testing.T, suite string) {
		c := boot(t, rootfsTarball(t, suite), []string{goroot + ":" + goHost}, nil)
		debs := c.put(t, built(t)...)
		c.logOnFailure(t)

		t.Run("install without Go", func(t *testing.T) { testInstallWithoutGo(t, c, debs[0]) })
		if st, _, _ := c.exec(10*time.Second, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "gomaint"); !strings.HasPrefix(st, "ii") {
			t.Fatalf("the package is not installed (dpkg-query: %q): nothing else can be tested", st)
		}
		t.Run("units verify", func(t *testing.T) { testUnitsVerify(t, c) })
		t.Run("exposure as README says", func(t *testing.T) { testExposure(t, c, repo) })
		t.Run("service starts once Go is there", func(t *testing.T) { testStart(t, c) })
		t.Run("ready event", func(t *testing.T) { testReadyEvent(t, c) })
		t.Run("volatile finding", func(t *testing.T) { testVolatileFinding(t, c) })
		t.Run("catalog", func(t *testing.T) { testCatalog(t, c, repo, journal.Ready, codeType(t, "CACHE_VOLATILE")) })
		t.Run("clean timer", func(t *testing.T) { testTimer(t, c) })
		t.Run("clean trims an over-limit cache", func(t *testing.T) { testCleanTrims(t, c) })
		t.Run("GOROOT moved away", func(t *testing.T) { testGorootMissing(t, c) })
		t.Run("tmpfiles clean keeps caches", func(t *testing.T) { testTmpfiles(t, c) })
		t.Run("lingering user service", func(t *testing.T) { testUserService(t, c) })
		t.Run("reinstall and upgrade keep the config", func(t *testing.T) { testUpgrade(t, c, debs) })
		t.Run("remove and purge keep caches", func(t *testing.T) { testRemovePurge(t, c) })
	})
}

func repoRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod two levels up from the test's directory: %v", err)
	}
	return root
}

// buildPackages starts building a package of format (deb or rpm) for each
// version, in the background while containers boot, and returns what
// waits for them: their paths, in the order of versions.
func buildPackages(t *testing.T, repo, format string, versions ...string) func(t *testing.T) []string {
	dist := testenv.Dir(t) // the test's packages, not dist/ of the checkout
	type result struct {
		paths []string
		took  time.Duration
		err   error
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		var r result
		for _, v := range versions {
			p, err := buildPackage(repo, dist, format, v)
			if err != nil {
				r.err = err
				break
			}
			r.paths = append(r.paths, p)
		}
		r.took = time.Since(start)
		done <- r
	}()
	var r *result
	return func(t *testing.T) []string {
		t.Helper()
		if r == nil {
			got := <-done
			r = &got
			if r.err == nil {
				t.Logf("phase build (%s, versions %s, parallel to extract and boot): %v", format, strings.Join(versions, " "), r.took.Round(100*time.Millisecond))
			}
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.paths
	}
}

// buildPackage runs `packaging/build.sh FORMAT ARCH` for this machine's
// architecture with GOMAINT_VERSION and GOMAINT_DIST set and returns the
// path it prints.
func buildPackage(repo, dist, format, version string) (string, error) {
	return buildPackageFor(repo, dist, format, runtime.GOARCH, version)
}

// buildPackageFor is buildPackage for the architecture arch.
func buildPackageFor(repo, dist, format, arch, version string) (string, error) {
	cmd := exec.Command("bash", "packaging/build.sh", format, arch)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GOMAINT_VERSION="+version, "GOMAINT_DIST="+dist)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("GOMAINT_VERSION=%s packaging/build.sh %s %s: %v\nstdout:\n%s\nstderr:\n%s",
			version, format, arch, err, tail(stdout.String(), 20), tail(stderr.String(), 40))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	p := strings.TrimSpace(lines[len(lines)-1])
	if p != "" && !filepath.IsAbs(p) {
		p = filepath.Join(repo, p)
	}
	if st, err := os.Stat(p); err != nil || !strings.HasSuffix(p, "."+format) || st.Size() == 0 {
		return "", fmt.Errorf("packaging/build.sh %s %s (GOMAINT_VERSION=%s) printed %q as its last stdout line, not the path of a .%s: %v\nstderr:\n%s",
			format, arch, version, p, format, err, tail(stderr.String(), 20))
	}
	return p, nil
}

// settle waits until a unit is neither activating nor deactivating (nor
// waiting to be restarted) and returns its properties.
func settle(t *testing.T, c *container, unit string, timeout time.Duration) map[string]string {
	t.Helper()
	props := []string{"ActiveState", "SubState", "Result", "ExecMainStatus", "ExecMainCode", "NRestarts", "StatusText", "RestartUSec", "MainPID"}
	deadline := time.Now().Add(timeout)
	for {
		p := c.show(t, unit, props...)
		switch p["ActiveState"] {
		case "activating", "deactivating", "reloading":
		default:
			if p["SubState"] != "auto-restart" {
				return p
			}
		}
		if time.Now().After(deadline) {
			return p
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// resetStartLimit clears the start rate limit of gomaint.service before
// one of the test's restarts: the test starts it more often within
// StartLimitIntervalSec than anyone would, and hitting the limit would fail
// a later step for a reason that is not the package's.
func resetStartLimit(t *testing.T, c *container) {
	t.Helper()
	c.run(t, "systemctl", "reset-failed", "gomaint.service")
}

// restartDelay is the unit's RestartSec, as systemctl show prints it
// ("100ms", "5s", "1min 30s").
func restartDelay(s string) time.Duration {
	s = strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "min", "m")
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Second
	}
	return d
}

// failsWithoutLoop checks a unit that has just failed to start because
// GOROOT is missing: exit status 78, and no restart after RestartSec.
func failsWithoutLoop(t *testing.T, c *container, unit string) {
	t.Helper()
	p := settle(t, c, unit, 15*time.Second)
	status := func() string { return c.out("systemctl", "status", "--no-pager", "-n", "15", unit) }
	if p["ActiveState"] != "failed" || p["Result"] != "exit-code" || p["ExecMainStatus"] != "78" {
		t.Fatalf("%s: ActiveState=%s Result=%s ExecMainStatus=%s, want failed, exit-code, 78\n%s",
			unit, p["ActiveState"], p["Result"], p["ExecMainStatus"], status())
	}
	if p["NRestarts"] != "0" {
		t.Errorf("%s restarted %s times; RestartPreventExitStatus=78 should stop systemd from trying\n%s", unit, p["NRestarts"], status())
	}
	// Wait past RestartSec: a unit that would loop is then activating again.
	wait := restartDelay(p["RestartUSec"]) + 2*time.Second
	if wait > 15*time.Second {
		wait = 15 * time.Second
	}
	time.Sleep(wait)
	q := c.show(t, unit, "ActiveState", "SubState", "NRestarts", "ExecMainStatus")
	if q["ActiveState"] != "failed" || q["NRestarts"] != "0" {
		t.Errorf("%v after the failure: ActiveState=%s SubState=%s NRestarts=%s: systemd is restarting it\n%s",
			wait, q["ActiveState"], q["SubState"], q["NRestarts"], status())
	}
}

func testInstallWithoutGo(t *testing.T, c *container, deb string) {
	if out, code, _ := c.exec(10*time.Second, "sh", "-c", "command -v go || ls -d /usr/local/go"); code == 0 {
		t.Fatalf("the container has Go before the test gives it one:\n%s", out)
	}
	start := time.Now()
	out, code, err := c.exec(3*time.Minute, "dpkg", "-i", deb)
	t.Logf("dpkg -i took %v", time.Since(start).Round(10*time.Millisecond))
	if err != nil || code != 0 {
		t.Fatalf("dpkg -i %s on a machine without Go: exit %d %v\n%s\n%s", deb, code, err, out,
			c.out("systemctl", "status", "--no-pager", "gomaint.service"))
	}
	t.Logf("dpkg -i output:\n%s", out)

	// What the package put in place.
	for _, f := range []string{
		"/usr/bin/gomaint",
		"/usr/lib/systemd/system/gomaint.service",
		"/usr/lib/systemd/system/gomaint-clean.service",
		"/usr/lib/systemd/system/gomaint-clean.timer",
		"/usr/lib/systemd/user/gomaint.service",
		"/usr/lib/tmpfiles.d/gomaint.conf",
		"/usr/lib/sysusers.d/gomaint.conf",
		"/usr/lib/systemd/catalog/gomaint.catalog",
		"/etc/gomaint/gomaint.toml",
	} {
		if _, err := os.Lstat(filepath.Join(c.root, f)); err != nil {
			t.Errorf("the package did not install %s: %v", f, err)
		}
	}
	if cf := c.run(t, "dpkg-query", "-W", "-f", "${Conffiles}", "gomaint"); !strings.Contains(cf, "/etc/gomaint/gomaint.toml") {
		t.Errorf("/etc/gomaint/gomaint.toml is not a conffile; dpkg-query lists: %q", cf)
	}
	if out, code, _ := c.exec(10*time.Second, "getent", "group", "gocache"); code != 0 {
		t.Errorf("no group gocache after install (systemd-sysusers): %s", out)
	}
	for _, d := range []string{"/var/cache/go/build", "/var/cache/go/mod"} {
		if got := strings.TrimSpace(c.run(t, "stat", "-c", "%a %U:%G", d)); got != "2775 root:gocache" {
			t.Errorf("%s is %q, want 2775 root:gocache (systemd-tmpfiles --create)", d, got)
		}
	}

	// The service was started and failed visibly, once.
	failsWithoutLoop(t, c, "gomaint.service")
	status, _, _ := c.exec(30*time.Second, "systemctl", "status", "--no-pager", "-n", "20", "gomaint.service")
	if !strings.Contains(status, "GOROOT_MISSING") {
		t.Errorf("systemctl status gomaint shows no GOROOT_MISSING line:\n%s", status)
	}
	id := goroot.Missing.Type().ID
	es := c.waitJournal(t, 5*time.Second, nil, "-u", "gomaint.service", "MESSAGE_ID="+id)
	if len(es) == 0 {
		t.Errorf("no GOROOT_MISSING event (MESSAGE_ID=%s) from gomaint.service in the journal:\n%s", id,
			c.out("journalctl", "--no-pager", "-u", "gomaint.service"))
	}
	if p := c.show(t, "gomaint-clean.timer", "ActiveState", "UnitFileState"); p["ActiveState"] != "active" || p["UnitFileState"] != "enabled" {
		t.Errorf("gomaint-clean.timer after install: ActiveState=%s UnitFileState=%s, want active and enabled",
			p["ActiveState"], p["UnitFileState"])
	}
}

// startTime is when the service was (re)started with Go and the test's
// configuration: the events of that start are searched from there.
var startTime time.Time

func testStart(t *testing.T, c *container) {
	c.sh(t, `ln -sfn `+goHost+` `+goRoot+`
mkdir -p /var/cache/go/volatile
mountpoint -q /var/cache/go/volatile || mount -t tmpfs -o size=16m,mode=0755 tmpfs /var/cache/go/volatile`)
	if out, code, err := c.exec(30*time.Second, goRoot+"/bin/go", "version"); code != 0 || err != nil {
		t.Fatalf("the host's Go does not run in the container: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(c.root, "etc/gomaint/gomaint.toml"), []byte(systemConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code, _ := c.exec(30*time.Second, "gomaint", "config", "check", "/etc/gomaint/gomaint.toml"); code != 0 {
		t.Fatalf("gomaint config check rejects the test's configuration (exit %d):\n%s\n%s", code, out, systemConfig)
	}
	resetStartLimit(t, c)
	startTime = time.Now()
	if out, code, err := c.exec(time.Minute, "systemctl", "restart", "gomaint.service"); code != 0 || err != nil {
		t.Fatalf("systemctl restart gomaint with Go at %s: exit %d %v\n%s\n%s", goRoot, code, err, out,
			c.out("systemctl", "status", "--no-pager", "-n", "30", "gomaint.service"))
	}
	// STATUS= follows the start-up audit: wait for it to name every target.
	var p map[string]string
	deadline := time.Now().Add(15 * time.Second)
	for {
		p = c.show(t, "gomaint.service", "ActiveState", "SubState", "StatusText", "Type", "NotifyAccess")
		if p["ActiveState"] == "active" && strings.Contains(p["StatusText"], "build") &&
			strings.Contains(p["StatusText"], "mod") && strings.Contains(p["StatusText"], "volatile") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("StatusText=%s", p["StatusText"])
	if p["ActiveState"] != "active" || p["SubState"] != "running" {
		t.Fatalf("gomaint.service is %s/%s, want active/running\n%s", p["ActiveState"], p["SubState"],
			c.out("systemctl", "status", "--no-pager", "-n", "30", "gomaint.service"))
	}
	if p["Type"] != "notify" {
		t.Errorf("gomaint.service has Type=%s, want notify", p["Type"])
	}
	for _, name := range []string{"build", "mod", "volatile"} {
		if !strings.Contains(p["StatusText"], name) {
			t.Errorf("StatusText %q does not name target %s", p["StatusText"], name)
		}
	}
}

func testReadyEvent(t *testing.T, c *container) {
	es := c.waitJournal(t, 10*time.Second, func(e entry) bool { return e["GOMAINT_EVENT"] == "ready" },
		"-u", "gomaint.service", since(startTime))
	if len(es) == 0 {
		t.Fatalf("journalctl -u gomaint -o json has no GOMAINT_EVENT=ready entry since the restart:\n%s",
			entries(c.journal(t, "-u", "gomaint.service", since(startTime))))
	}
	e := es[len(es)-1]
	if e["MESSAGE_ID"] != journal.Ready.ID {
		t.Errorf("ready event has MESSAGE_ID=%q, want %s: %s", e["MESSAGE_ID"], journal.Ready.ID, e)
	}
	if e["GOMAINT_CONFIG_FILE"] != "/etc/gomaint/gomaint.toml" {
		t.Errorf("ready event has GOMAINT_CONFIG_FILE=%q, want /etc/gomaint/gomaint.toml: %s", e["GOMAINT_CONFIG_FILE"], e)
	}
	if g := e["GOMAINT_GOROOT"]; g != goRoot && g != goHost {
		t.Errorf("ready event has GOMAINT_GOROOT=%q, want %s: %s", g, goRoot, e)
	}
	// GOMAINT_TARGETS counts the targets (a figure, in plain integers).
	if n, err := strconv.Atoi(e["GOMAINT_TARGETS"]); err != nil || n != 3 {
		t.Errorf("ready event has GOMAINT_TARGETS=%q, want 3 (build, mod, volatile): %s", e["GOMAINT_TARGETS"], e)
	}
	// Found by its MESSAGE_ID alone, too.
	if es := c.journal(t, "MESSAGE_ID="+journal.Ready.ID, since(startTime)); len(es) == 0 {
		t.Errorf("journalctl MESSAGE_ID=%s finds nothing", journal.Ready.ID)
	}
}

func testVolatileFinding(t *testing.T, c *container) {
	typ := codeType(t, "CACHE_VOLATILE")
	es := c.waitJournal(t, 20*time.Second, nil, "GOMAINT_EVENT=finding", "GOMAINT_FINDING=CACHE_VOLATILE", since(startTime))
	if len(es) == 0 {
		t.Fatalf("journalctl GOMAINT_EVENT=finding GOMAINT_FINDING=CACHE_VOLATILE finds nothing for the tmpfs target /var/cache/go/volatile; gomaint's entries since the start:\n%s",
			entries(c.journal(t, "SYSLOG_IDENTIFIER=gomaint", since(startTime))))
	}
	found := false
	for _, e := range es {
		if e["MESSAGE_ID"] != typ.ID {
			t.Errorf("CACHE_VOLATILE finding with MESSAGE_ID=%q, want %s: %s", e["MESSAGE_ID"], typ.ID, e)
		}
		switch {
		case e["GOMAINT_TARGET"] == "volatile" || e["GOMAINT_CACHE_PATH"] == "/var/cache/go/volatile":
			found = true
		default:
			t.Errorf("CACHE_VOLATILE for a target on persistent storage: %s", e)
		}
	}
	if !found {
		t.Errorf("no CACHE_VOLATILE finding names target volatile:\n%s", entries(es))
	}
}

// codeType is the journal event type of a declared finding code.
func codeType(t *testing.T, name string) journal.Type {
	t.Helper()
	c, ok := finding.Lookup(name)
	if !ok {
		t.Fatalf("no finding code %s is declared", name)
	}
	return c.Type()
}

// catalogSubject returns the Subject line of a catalog entry up to its
// first @FIELD@, as journalctl -x prints it whatever the fields hold.
func catalogSubject(t *testing.T, repo, id string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "units", "gomaint.catalog"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "-- "+id+"\n")
	if !ok {
		t.Fatalf("units/gomaint.catalog has no entry for %s", id)
	}
	for _, line := range strings.Split(rest, "\n") {
		if s, ok := strings.CutPrefix(line, "Subject: "); ok {
			s, _, _ = strings.Cut(s, "@")
			return "Subject: " + strings.TrimSpace(s)
		}
	}
	t.Fatalf("catalog entry %s has no Subject", id)
	return ""
}

// testCatalog checks that journalctl -x explains events of each type
// (the journal has one of each) with gomaint's catalog.
func testCatalog(t *testing.T, c *container, repo string, types ...journal.Type) {
	for _, typ := range types {
		subject := catalogSubject(t, repo, typ.ID)
		out := c.run(t, "journalctl", "--no-pager", "-x", "-n", "5", "MESSAGE_ID="+typ.ID)
		if !strings.Contains(out, subject) || !strings.Contains(out, "Defined-By: gomaint") {
			t.Errorf("journalctl -x MESSAGE_ID=%s does not show the catalog text (%q, Defined-By: gomaint); was the catalog installed and journalctl --update-catalog run?\n%s\n%s",
				typ.ID, subject, out, c.out("journalctl", "--list-catalog", typ.ID))
		}
	}
}

func testTimer(t *testing.T, c *container) {
	out := c.run(t, "systemctl", "list-timers", "--all", "--no-pager")
	if !strings.Contains(out, "gomaint-clean.timer") {
		t.Errorf("systemctl list-timers does not show gomaint-clean.timer:\n%s", out)
	}
	p := c.show(t, "gomaint-clean.timer", "ActiveState", "UnitFileState", "Persistent", "RandomizedDelayUSec", "NextElapseUSecRealtime")
	if p["ActiveState"] != "active" || p["UnitFileState"] != "enabled" {
		t.Errorf("gomaint-clean.timer: ActiveState=%s UnitFileState=%s, want active, enabled", p["ActiveState"], p["UnitFileState"])
	}
	if p["Persistent"] != "yes" {
		t.Errorf("gomaint-clean.timer has Persistent=%s, want yes", p["Persistent"])
	}
	t.Logf("gomaint-clean.timer: next %s, randomized delay %s", p["NextElapseUSecRealtime"], p["RandomizedDelayUSec"])
}

// diskBytes sums st_blocks*512 over a tree, as gomaint and du measure a cache.
func diskBytes(dir string) (int64, error) {
	var total int64
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		}
		return nil
	})
	return total, err
}

func testCleanTrims(t *testing.T, c *container) {
	const maxSize = 4 * mib
	cache := filepath.Join(c.root, "var/cache/go/build")
	// 480 entries last used 2 to 22 days ago, each 12 KiB on disk, and 20
	// used within the last hour, which no clean may remove (min_age 1d).
	old, err := plantBuildCache(cache, "old", 480, 8192, func(i int) time.Duration { return 48*time.Hour + time.Duration(i)*time.Hour })
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := plantBuildCache(cache, "fresh", 20, 8192, func(i int) time.Duration { return time.Duration(i) * time.Minute })
	if err != nil {
		t.Fatal(err)
	}
	before, _ := diskBytes(cache)
	if before <= maxSize {
		t.Fatalf("planted only %d bytes, not over the limit of %d", before, maxSize)
	}
	start := time.Now()
	out, code, err := c.exec(3*time.Minute, "systemctl", "start", "gomaint-clean.service")
	t.Logf("systemctl start gomaint-clean.service took %v", time.Since(start).Round(10*time.Millisecond))
	if code != 0 || err != nil {
		t.Errorf("systemctl start gomaint-clean.service: exit %d %v\n%s\n%s", code, err, out,
			c.out("systemctl", "status", "--no-pager", "-n", "30", "gomaint-clean.service"))
	}
	if p := c.show(t, "gomaint-clean.service", "Result", "ExecMainStatus"); p["Result"] != "success" {
		t.Errorf("gomaint-clean.service: Result=%s ExecMainStatus=%s\n%s", p["Result"], p["ExecMainStatus"],
			c.out("journalctl", "--no-pager", "-u", "gomaint-clean.service", "-n", "30"))
	}

	es := c.waitJournal(t, 10*time.Second, nil, "GOMAINT_EVENT=trim", "GOMAINT_TARGET=build", since(start))
	if len(es) == 0 {
		t.Fatalf("journalctl GOMAINT_EVENT=trim GOMAINT_TARGET=build finds nothing after gomaint-clean.service; gomaint's entries:\n%s",
			entries(c.journal(t, "SYSLOG_IDENTIFIER=gomaint", since(start))))
	}
	e := es[len(es)-1]
	num := func(k string) int64 {
		n, err := strconv.ParseInt(e[k], 10, 64)
		if err != nil {
			t.Errorf("TRIM event field %s=%q is not an integer: %s", k, e[k], e)
		}
		return n
	}
	if e["MESSAGE_ID"] != journal.Trim.ID {
		t.Errorf("TRIM event has MESSAGE_ID=%q, want %s", e["MESSAGE_ID"], journal.Trim.ID)
	}
	if e["GOMAINT_CACHE_PATH"] != "/var/cache/go/build" {
		t.Errorf("TRIM event has GOMAINT_CACHE_PATH=%q", e["GOMAINT_CACHE_PATH"])
	}
	if num("GOMAINT_FREED_BYTES") <= 0 || num("GOMAINT_DISK_BYTES_BEFORE") <= maxSize || num("GOMAINT_DISK_BYTES") > maxSize {
		t.Errorf("TRIM event: freed %s, before %s, after %s bytes; want freed > 0 and before > %d >= after: %s",
			e["GOMAINT_FREED_BYTES"], e["GOMAINT_DISK_BYTES_BEFORE"], e["GOMAINT_DISK_BYTES"], maxSize, e)
	}
	if es := c.journal(t, "MESSAGE_ID="+journal.Trim.ID, "GOMAINT_CACHE_PATH=/var/cache/go/build", since(start)); len(es) == 0 {
		t.Errorf("journalctl MESSAGE_ID=%s GOMAINT_CACHE_PATH=/var/cache/go/build finds nothing", journal.Trim.ID)
	}

	// On disk: under the limit, nothing recent gone, least recently used first.
	after, _ := diskBytes(cache)
	if after > maxSize {
		t.Errorf("the build cache holds %d bytes on disk after the clean, over its max_size %d (before: %d)", after, maxSize, before)
	}
	exists := func(p string) bool { _, err := os.Lstat(filepath.Join(cache, p)); return err == nil }
	for _, f := range fresh {
		if !exists(f.action) || !exists(f.output) {
			t.Errorf("the clean removed an entry used %v ago (min_age 1d): %s", time.Since(f.lastUsed).Round(time.Second), f.action)
		}
	}
	var newestRemoved, oldestKept time.Time
	kept := 0
	for _, o := range old {
		if exists(o.action) {
			kept++
			if oldestKept.IsZero() || o.lastUsed.Before(oldestKept) {
				oldestKept = o.lastUsed
			}
		} else if o.lastUsed.After(newestRemoved) {
			newestRemoved = o.lastUsed
		}
	}
	if kept == len(old) {
		t.Errorf("no old entry was removed")
	}
	if !oldestKept.IsZero() && !newestRemoved.IsZero() && !newestRemoved.Before(oldestKept) {
		t.Errorf("not least recently used first: removed an entry last used %v, kept one last used %v",
			newestRemoved.Format(time.DateTime), oldestKept.Format(time.DateTime))
	}
	for _, f := range []string{"README", "trim.txt"} {
		if !exists(f) {
			t.Errorf("the clean removed %s", f)
		}
	}
	t.Logf("%d of %d old entries kept; %d -> %d bytes on disk", kept, len(old), before, after)
}

func testGorootMissing(t *testing.T, c *container) {
	c.run(t, "mv", goRoot, goRoot+".moved")
	resetStartLimit(t, c)
	defer func() {
		c.run(t, "mv", goRoot+".moved", goRoot)
		resetStartLimit(t, c)
		if out, code, err := c.exec(time.Minute, "systemctl", "restart", "gomaint.service"); code != 0 || err != nil {
			t.Errorf("with GOROOT back, systemctl restart gomaint: exit %d %v\n%s\n%s", code, err, out,
				c.out("systemctl", "status", "--no-pager", "-n", "20", "gomaint.service"))
		}
	}()
	start := time.Now()
	out, code, err := c.exec(time.Minute, "systemctl", "restart", "gomaint.service")
	took := time.Since(start)
	t.Logf("systemctl restart gomaint without GOROOT: exit %d after %v", code, took.Round(time.Millisecond))
	if err != nil || code == 0 {
		t.Errorf("systemctl restart gomaint with GOROOT moved away: exit %d %v, want a failure\n%s", code, err, out)
	}
	if took > 10*time.Second {
		t.Errorf("the failing restart took %v: not failing fast", took)
	}
	failsWithoutLoop(t, c, "gomaint.service")

	typ := goroot.Missing.Type()
	es := c.waitJournal(t, 5*time.Second, nil, "GOMAINT_EVENT=goroot", "GOMAINT_FINDING=GOROOT_MISSING", since(start))
	if len(es) == 0 {
		t.Fatalf("journalctl GOMAINT_EVENT=goroot GOMAINT_FINDING=GOROOT_MISSING finds nothing since the restart:\n%s",
			entries(c.journal(t, "-u", "gomaint.service", since(start))))
	}
	e := es[len(es)-1]
	if e["MESSAGE_ID"] != typ.ID {
		t.Errorf("GOROOT_MISSING event has MESSAGE_ID=%q, want %s", e["MESSAGE_ID"], typ.ID)
	}
	if !strings.Contains(e["GOMAINT_GOROOT"], goRoot) {
		t.Errorf("GOROOT_MISSING event has GOMAINT_GOROOT=%q, want %s: %s", e["GOMAINT_GOROOT"], goRoot, e)
	}
	if e["_SYSTEMD_UNIT"] != "gomaint.service" {
		t.Errorf("GOROOT_MISSING event from unit %q", e["_SYSTEMD_UNIT"])
	}
	if es := c.journal(t, "-u", "gomaint.service", "GOMAINT_EVENT=ready", since(start)); len(es) > 0 {
		t.Errorf("a ready event although GOROOT is missing:\n%s", entries(es))
	}
}

func testTmpfiles(t *testing.T, c *container) {
	// Aged entries in both protected caches (a module version too), and the
	// same age in two unprotected controls. The rule ages all of /var/cache
	// (by atime and mtime: touch cannot set ctime) as an admin's might.
	c.sh(t, `
m=/var/cache/go/mod/cache/download/example.com/m/@v
mkdir -p $m /var/cache/go/mod/example.com/m@v1.0.0 /var/tmp/gomaint-e2e-control /var/cache/gomaint-e2e-control
printf '{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}' > $m/v1.0.0.info
printf 'module example.com/m\n' > $m/v1.0.0.mod
printf 'zip' > $m/v1.0.0.zip
printf 'h1:x=' > $m/v1.0.0.ziphash
printf 'v1.0.0\n' > $m/list
printf 'package m\n' > /var/cache/go/mod/example.com/m@v1.0.0/m.go
mkdir -p /var/cache/go/build/aa
printf old > /var/cache/go/build/aa/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-d
echo old > /var/tmp/gomaint-e2e-control/old
echo old > /var/cache/gomaint-e2e-control/old
find /var/cache/go/build /var/cache/go/mod /var/tmp/gomaint-e2e-control /var/cache/gomaint-e2e-control -exec touch -h -d '60 days ago' {} +
cat > /etc/tmpfiles.d/gomaint-e2e-aging.conf <<EOF
e /var/cache - - - am:30d
e /var/tmp/gomaint-e2e-control - - - am:30d
EOF`)
	defer c.run(t, "rm", "-f", "/etc/tmpfiles.d/gomaint-e2e-aging.conf")
	caches := []string{"var/cache/go/build", "var/cache/go/mod"}
	var before []map[string]string
	for _, d := range caches {
		s, err := snapshot(filepath.Join(c.root, d))
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, s)
	}
	out, code, err := c.exec(time.Minute, "systemd-tmpfiles", "--clean")
	if code != 0 || err != nil {
		t.Errorf("systemd-tmpfiles --clean: exit %d %v\n%s", code, err, out)
	}
	for _, ctl := range []string{"/var/tmp/gomaint-e2e-control/old", "/var/cache/gomaint-e2e-control/old"} {
		if _, err := os.Lstat(filepath.Join(c.root, ctl)); err == nil {
			t.Errorf("control: systemd-tmpfiles --clean left the aged unprotected %s: the test proves nothing\n%s", ctl,
				c.out("systemd-tmpfiles", "--cat-config"))
		}
	}
	for i, d := range caches {
		after, err := snapshot(filepath.Join(c.root, d))
		if err != nil {
			t.Fatal(err)
		}
		if diff := diffSnapshots(before[i], after); diff != "" {
			t.Errorf("systemd-tmpfiles --clean changed the protected /%s:\n%s", d, diff)
		}
	}
	t.Logf("protected: %d + %d entries kept", len(before[0]), len(before[1]))
}

func testUserService(t *testing.T, c *container) {
	c.sh(t, `id alice >/dev/null 2>&1 || useradd -m -s /bin/bash alice`)
	uid := strings.TrimSpace(c.run(t, "id", "-u", "alice"))
	home := "/home/alice"
	as := func(args ...string) []string {
		return append([]string{"runuser", "-u", "alice", "--", "env", "XDG_RUNTIME_DIR=/run/user/" + uid}, args...)
	}
	// The user's build cache, over the user's limit, entries days old.
	if _, err := plantBuildCache(filepath.Join(c.root, home, ".cache/go-build"), "alice", 300, 8192,
		func(i int) time.Duration { return 48*time.Hour + time.Duration(i)*time.Hour }); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(c.root, home, ".config/gomaint"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.root, home, ".config/gomaint/gomaint.toml"), []byte(userConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	c.sh(t, `mkdir -p /home/alice/go/pkg/mod && chown -R alice: /home/alice`)

	start := time.Now()
	c.run(t, "loginctl", "enable-linger", "alice")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _, _ := c.exec(10*time.Second, "systemctl", "is-active", "user@"+uid+".service")
		if strings.TrimSpace(out) == "active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("loginctl enable-linger alice: user@%s.service is %q after 30s\n%s", uid, out,
				c.out("systemctl", "status", "--no-pager", "user@"+uid+".service"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out, code, err := c.exec(time.Minute, as("systemctl", "--user", "enable", "--now", "gomaint.service")...); code != 0 || err != nil {
		t.Fatalf("systemctl --user enable --now gomaint as alice: exit %d %v\n%s\n%s", code, err, out,
			c.out(as("systemctl", "--user", "status", "--no-pager", "-n", "30", "gomaint.service")...))
	}
	var state string
	for deadline := time.Now().Add(15 * time.Second); ; {
		out, _, _ := c.exec(10*time.Second, as("systemctl", "--user", "is-active", "gomaint.service")...)
		if state = strings.TrimSpace(out); state != "activating" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if state != "active" {
		t.Fatalf("alice's gomaint.service is %q, want active\n%s", state,
			c.out(as("systemctl", "--user", "status", "--no-pager", "-n", "30", "gomaint.service")...))
	}

	// Its events: ready, and audits of alice's own caches.
	buildPath, modPath := home+"/.cache/go-build", home+"/go/pkg/mod"
	es := c.waitJournal(t, 10*time.Second, nil, "_UID="+uid, "GOMAINT_EVENT=ready", since(start))
	if len(es) == 0 {
		t.Fatalf("no ready event from alice's (uid %s) service:\n%s", uid, entries(c.journal(t, "_UID="+uid, since(start))))
	}
	e := es[len(es)-1]
	if e["MESSAGE_ID"] != journal.Ready.ID || e["_SYSTEMD_USER_UNIT"] != "gomaint.service" {
		t.Errorf("alice's ready event: MESSAGE_ID=%s from user unit %q: %s", e["MESSAGE_ID"], e["_SYSTEMD_USER_UNIT"], e)
	}
	if e["GOMAINT_CONFIG_FILE"] != home+"/.config/gomaint/gomaint.toml" {
		t.Errorf("alice's ready event has GOMAINT_CONFIG_FILE=%q", e["GOMAINT_CONFIG_FILE"])
	}
	paths := ""
	for _, a := range c.waitJournal(t, 10*time.Second, nil, "_UID="+uid, "GOMAINT_EVENT=audit", since(start)) {
		paths += " " + a["GOMAINT_CACHE_PATH"]
	}
	for _, p := range []string{buildPath, modPath} {
		if !strings.Contains(paths, p) {
			t.Errorf("no audit event of alice's service names her cache %s: %q", p, paths)
		}
	}
	if strings.Contains(paths, "/var/cache/go") {
		t.Errorf("alice's service manages the system caches: %q", paths)
	}

	// gomaint status as alice talks to her daemon.
	out, code, err := c.exec(30*time.Second, as("gomaint", "status")...)
	t.Logf("gomaint status as alice:\n%s", out)
	if code != 0 || err != nil {
		t.Errorf("gomaint status as alice: exit %d %v", code, err)
	}
	for _, p := range []string{buildPath, modPath} {
		if !strings.Contains(out, p) {
			t.Errorf("gomaint status as alice does not show her cache %s", p)
		}
	}
	if st := c.run(t, "stat", "-c", "%U %F", "/run/user/"+uid+"/gomaint/control.sock"); strings.TrimSpace(st) != "alice socket" {
		t.Errorf("alice's control socket: %q, want a socket owned by alice", st)
	}

	// A clean as alice trims her over-limit cache (her daemon may already
	// have, within seconds of starting: either way a TRIM event of hers).
	out, code, err = c.exec(2*time.Minute, as("gomaint", "clean")...)
	if code != 0 || err != nil {
		t.Errorf("gomaint clean as alice: exit %d %v\n%s", code, err, out)
	}
	trims := c.waitJournal(t, 10*time.Second, func(e entry) bool { return e["GOMAINT_CACHE_PATH"] == buildPath },
		"_UID="+uid, "GOMAINT_EVENT=trim", since(start))
	freed := int64(0)
	for _, e := range trims {
		n, _ := strconv.ParseInt(e["GOMAINT_FREED_BYTES"], 10, 64)
		freed += n
	}
	if freed <= 0 {
		t.Errorf("no TRIM event freeing bytes in alice's %s:\n%s", buildPath, entries(c.journal(t, "_UID="+uid, since(start))))
	}
	if n, _ := diskBytes(filepath.Join(c.root, buildPath)); n > 2*mib {
		t.Errorf("alice's build cache holds %d bytes on disk, over her max_size 2MiB", n)
	}
	if out := c.run(t, "find", buildPath, "!", "-user", "alice"); strings.TrimSpace(out) != "" {
		t.Errorf("entries in alice's cache not owned by her:\n%s", out)
	}
}

func testUpgrade(t *testing.T, c *container, debs []string) {
	conf := filepath.Join(c.root, "etc/gomaint/gomaint.toml")
	check := func(when string) {
		t.Helper()
		b, err := os.ReadFile(conf)
		if err != nil {
			t.Errorf("%s: /etc/gomaint/gomaint.toml: %v", when, err)
		} else if string(b) != systemConfig {
			t.Errorf("%s: the edited /etc/gomaint/gomaint.toml was not kept; it now holds:\n%s", when, b)
		}
		p := settle(t, c, "gomaint.service", 20*time.Second)
		if p["ActiveState"] != "active" {
			t.Errorf("%s: gomaint.service is %s (%s)\n%s", when, p["ActiveState"], p["Result"],
				c.out("systemctl", "status", "--no-pager", "-n", "20", "gomaint.service"))
		}
	}
	for i, step := range []struct{ deb, version, what string }{
		{debs[0], version1, "reinstall of " + version1},
		{debs[1], version2, "upgrade to " + version2},
	} {
		start := time.Now()
		resetStartLimit(t, c)
		pid := c.show(t, "gomaint.service", "MainPID")["MainPID"]
		out, code, err := c.exec(3*time.Minute, "dpkg", "-i", step.deb)
		t.Logf("%s: dpkg -i took %v", step.what, time.Since(start).Round(10*time.Millisecond))
		if code != 0 || err != nil {
			t.Fatalf("%s: dpkg -i %s: exit %d %v\n%s", step.what, step.deb, code, err, out)
		}
		if v := c.run(t, "dpkg-query", "-W", "-f", "${Version}", "gomaint"); v != step.version {
			t.Errorf("%s: installed version %q", step.what, v)
		}
		check("after the " + step.what)
		if newPID := c.show(t, "gomaint.service", "MainPID")["MainPID"]; newPID == pid {
			t.Errorf("%s: gomaint.service was not restarted (MainPID still %s)", step.what, pid)
		}
		if i == 1 {
			if v := c.run(t, "gomaint", "version"); !strings.Contains(v, version2) {
				t.Errorf("after the upgrade gomaint version prints %q, want %s", v, version2)
			}
			es := c.waitJournal(t, 10*time.Second, nil, "-u", "gomaint.service", "GOMAINT_EVENT=ready", since(start))
			if len(es) == 0 {
				t.Errorf("no ready event from the upgraded service")
			}
		}
	}
}

func testRemovePurge(t *testing.T, c *container) {
	trees := []string{"var/cache/go", "home/alice/.cache/go-build", "home/alice/go"}
	before := map[string]map[string]string{}
	for _, d := range trees {
		s, err := snapshot(filepath.Join(c.root, d))
		if err != nil {
			t.Fatal(err)
		}
		before[d] = s
	}
	unchanged := func(when string) {
		t.Helper()
		for _, d := range trees {
			after, err := snapshot(filepath.Join(c.root, d))
			if err != nil {
				t.Errorf("%s: /%s: %v", when, d, err)
				continue
			}
			if diff := diffSnapshots(before[d], after); diff != "" {
				t.Errorf("%s changed the cache /%s:\n%s", when, d, diff)
			}
		}
	}
	exists := func(p string) bool { _, err := os.Lstat(filepath.Join(c.root, p)); return err == nil }
	if !exists("var/lib/gomaint") {
		t.Errorf("no /var/lib/gomaint before removal: purge removing it proves nothing")
	}

	// A configuration the clean rejects (exit 78), so that a unit has
	// failed when the package goes, as testRPMErase does for rpm -e.
	c.sh(t, `echo 'no_such_key = 1' >> /etc/gomaint/gomaint.toml`)
	if _, code, _ := c.exec(time.Minute, "systemctl", "start", "gomaint-clean.service"); code == 0 {
		t.Errorf("gomaint-clean.service succeeded with a bad configuration: no failed unit for dpkg -r to leave")
	}

	out, code, err := c.exec(2*time.Minute, "dpkg", "-r", "gomaint")
	if code != 0 || err != nil {
		t.Fatalf("dpkg -r gomaint: exit %d %v\n%s", code, err, out)
	}
	// Masked until purge, as dh_installsystemd leaves them, but none
	// loaded as "not-found failed" until the next boot.
	if out := c.run(t, "systemctl", "list-units", "--all", "--state=failed", "--no-legend", "gomaint*"); strings.TrimSpace(out) != "" {
		t.Errorf("failed units after dpkg -r (prerm stops and resets them):\n%s", out)
	}
	if p := c.show(t, "gomaint.service", "ActiveState", "LoadState"); p["ActiveState"] == "active" || p["ActiveState"] == "activating" {
		t.Errorf("gomaint.service still %s after dpkg -r", p["ActiveState"])
	}
	if exists("usr/bin/gomaint") {
		t.Errorf("/usr/bin/gomaint is still there after dpkg -r")
	}
	if !exists("etc/gomaint/gomaint.toml") {
		t.Errorf("dpkg -r removed the conffile /etc/gomaint/gomaint.toml; only purge may")
	}
	unchanged("dpkg -r")

	out, code, err = c.exec(2*time.Minute, "dpkg", "-P", "gomaint")
	if code != 0 || err != nil {
		t.Fatalf("dpkg -P gomaint: exit %d %v\n%s", code, err, out)
	}
	for _, p := range []string{"var/lib/gomaint", "etc/gomaint/gomaint.toml"} {
		if exists(p) {
			t.Errorf("/%s is still there after dpkg -P", p)
		}
	}
	unchanged("dpkg -P")
	if out, _, _ := c.exec(10*time.Second, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "gomaint"); strings.HasPrefix(out, "ii") || strings.HasPrefix(out, "rc") {
		t.Errorf("after dpkg -P, dpkg-query says %q", out)
	}
}
