//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestDefaults installs the package where nobody configured anything and
// checks what the built-in defaults promise (issue 12.3, 12.4): a user's
// service with no configuration file keeps a growing build cache under
// the default limit, and with only the timer (no daemon) Debian's
// prometheus-node-exporter serves gomaint's figures after the timer's run.
// It boots its own container, so it runs alone:
//
//	go test -tags e2e -count=1 -run TestDefaults -timeout 15m ./packaging/e2e/
func TestDefaults(t *testing.T) {
	repo, goroot := prerequisites(t, "apt-get")
	dist := testenv.Dir(t)
	deb, err := buildPackage(repo, dist, "deb", version1)
	if err != nil {
		t.Fatal(err)
	}
	// Debian's node exporter, fetched by the host's apt (the container
	// has no package lists): the package and the one dependency minbase lacks.
	testenv.Run(t, os.Environ(), dist, "apt-get", "download", "prometheus-node-exporter", "adduser")
	c := boot(t, rootfsTarball(t, baseSuite), []string{goroot + ":" + goHost}, nil)
	debs, _ := filepath.Glob(filepath.Join(dist, "*.deb"))
	c.put(t, debs...)
	// Go where a distribution's package puts it: go in PATH, nothing set.
	c.sh(t, `ln -sfn `+goHost+` `+goRoot+` && ln -sf `+goRoot+`/bin/go /usr/bin/go`)
	if out, code, err := c.exec(3*time.Minute, "dpkg", "-i", "/root/e2e/"+filepath.Base(deb)); code != 0 || err != nil {
		t.Fatalf("dpkg -i: exit %d %v\n%s", code, err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gomaint's journal at the end of the failed test:\n%s",
				c.out("journalctl", "--no-pager", "-o", "short-precise", "-n", "80", "SYSLOG_IDENTIFIER=gomaint"))
		}
	})
	t.Run("user service without configuration keeps the default limit", func(t *testing.T) { testDefaultLimit(t, c) })
	t.Run("timer-only metrics reach node_exporter", func(t *testing.T) { testTimerMetrics(t, c) })
}

// duBytes is what du -sB1 says of a directory in the container: st_blocks
// of every entry, as gomaint measures a cache. The daemon may remove
// entries while du walks (du then exits 1 on the vanished names): such a
// count is retried.
func duBytes(t *testing.T, c *container, dir string) int64 {
	t.Helper()
	for try := 1; ; try++ {
		out, code, err := c.exec(30*time.Second, "du", "-sB1", dir)
		if f := strings.Fields(out); code == 0 && err == nil && len(f) > 0 {
			n, perr := strconv.ParseInt(f[0], 10, 64)
			if perr != nil {
				t.Fatalf("du -sB1 %s: %v", dir, perr)
			}
			return n
		}
		if try == 20 {
			t.Fatalf("du -sB1 %s: exit %d %v\n%s", dir, code, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testDefaultLimit(t *testing.T, c *container) {
	const user = "lfdef"
	c.sh(t, `id `+user+` >/dev/null 2>&1 || useradd -m -s /bin/bash `+user)
	uid := strings.TrimSpace(c.run(t, "id", "-u", user))
	home := "/home/" + user
	cache := home + "/.cache/go-build"
	as := func(args ...string) []string {
		return append([]string{"runuser", "-u", user, "--", "env", "XDG_RUNTIME_DIR=/run/user/" + uid}, args...)
	}
	// A small file system for the user's caches, so that the default
	// (10% of it) is small enough to write past: 200 MiB gives 20 MiB.
	c.sh(t, `mkdir -p `+home+`/.cache && mount -t tmpfs -o size=200m,mode=0755,uid=`+uid+`,gid=`+uid+` tmpfs `+home+`/.cache`)
	if _, err := os.Stat(filepath.Join(c.root, home, ".config/gomaint/gomaint.toml")); err == nil {
		t.Fatal("the user has a configuration file; this test is about having none")
	}
	const limit = 20 << 20
	shown, _, _ := c.exec(time.Minute, as("gomaint", "config", "show")...)
	if !strings.Contains(shown, `max_size = "auto"`) || !strings.Contains(shown, cache+": 20MiB") {
		t.Fatalf("gomaint config show as %s does not show the default limit of 20MiB for %s:\n%s", user, cache, shown)
	}
	// The cache as go makes it, and batches of entries last used days ago
	// (what min_age lets a trim remove), staged off the cache.
	stage := filepath.Join(c.root, home, "stage")
	for i, seed := range []string{"empty", "b1", "b2", "b3"} {
		n := 1000
		if i == 0 {
			n = 0
		}
		if _, err := plantBuildCache(filepath.Join(stage, seed), seed, n, 8192, func(i int) time.Duration { return 48*time.Hour + time.Duration(i)*time.Minute }); err != nil {
			t.Fatal(err)
		}
	}
	c.sh(t, `chown -R `+user+`: `+home+`/stage && runuser -u `+user+` -- cp -a `+home+`/stage/empty `+cache)

	start := time.Now()
	c.run(t, "loginctl", "enable-linger", user)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if out, _, _ := c.exec(10*time.Second, "systemctl", "is-active", "user@"+uid+".service"); strings.TrimSpace(out) == "active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("user@%s.service not active after 30s", uid)
		}
	}
	if out, code, err := c.exec(time.Minute, as("systemctl", "--user", "enable", "--now", "gomaint.service")...); code != 0 || err != nil {
		t.Fatalf("systemctl --user enable --now gomaint: exit %d %v\n%s", code, err, out)
	}
	if es := c.waitJournal(t, 20*time.Second, nil, "_UID="+uid, "GOMAINT_EVENT=ready", since(start)); len(es) == 0 {
		t.Fatalf("no ready event from %s's service:\n%s", user, c.out(as("systemctl", "--user", "status", "--no-pager", "-n", "30", "gomaint.service")...))
	}
	// The cache grows by 12 MiB at a time, to 36 MiB in all; each time the
	// daemon brings it back under the limit it chose by itself.
	for _, b := range []string{"b1", "b2", "b3"} {
		c.sh(t, `runuser -u `+user+` -- cp -a `+home+`/stage/`+b+`/. `+cache+`/`)
		var n int64
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			if n = duBytes(t, c, cache); n <= limit {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after batch %s the cache holds %d bytes for 30s, over the default limit %d\n%s", b, n, limit,
					c.out(as("gomaint", "status")...))
			}
		}
		t.Logf("after batch %s: %d bytes (limit %d), %v after start", b, n, limit, time.Since(start).Round(time.Millisecond))
	}
	es := c.journal(t, "_UID="+uid, "GOMAINT_EVENT=trim", "GOMAINT_TRIGGER=limit", since(start))
	if len(es) == 0 {
		t.Errorf("no trim event with GOMAINT_TRIGGER=limit from %s's daemon", user)
	}
	if out := c.out(as("gomaint", "status")...); !strings.Contains(out, "limit 20MiB") {
		t.Errorf("gomaint status does not show the default limit:\n%s", out)
	}
}

func testTimerMetrics(t *testing.T, c *container) {
	const textfiles = "/var/lib/prometheus/node-exporter"
	// Only the timer: the daemon is off, and the configuration sets
	// nothing but where the textfile goes.
	c.run(t, "systemctl", "disable", "--now", "gomaint.service")
	if err := os.WriteFile(filepath.Join(c.root, "etc/gomaint/gomaint.toml"), []byte("[daemon]\nmetrics_dir = \""+textfiles+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Debian's node exporter, its textfile collector pointed at metrics_dir.
	if out, code, err := c.exec(3*time.Minute, "sh", "-c", "dpkg -i /root/e2e/adduser_*.deb /root/e2e/prometheus-node-exporter_*.deb"); code != 0 || err != nil {
		t.Fatalf("installing prometheus-node-exporter: exit %d %v\n%s", code, err, out)
	}
	if err := os.WriteFile(filepath.Join(c.root, "etc/default/prometheus-node-exporter"),
		[]byte("ARGS=\"--collector.textfile.directory="+textfiles+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.run(t, "systemctl", "restart", "prometheus-node-exporter.service")
	// Something in the shared build cache.
	if _, err := plantBuildCache(filepath.Join(c.root, "var/cache/go/build"), "timer", 200, 8192, func(i int) time.Duration { return time.Duration(i) * time.Minute }); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(c.root, textfiles, "gomaint.prom"))

	// What gomaint-clean.timer starts.
	if out, code, err := c.exec(3*time.Minute, "systemctl", "start", "gomaint-clean.service"); code != 0 || err != nil {
		t.Fatalf("systemctl start gomaint-clean.service: exit %d %v\n%s\n%s", code, err, out,
			c.out("journalctl", "--no-pager", "-u", "gomaint-clean.service", "-n", "30"))
	}
	want := duBytes(t, c, "/var/cache/go/build")
	st, err := os.Stat(filepath.Join(c.root, textfiles, "gomaint.prom"))
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("after the timer's run: %v (mode %v)", err, st)
	}
	sample := regexp.MustCompile(`(?m)^gomaint_cache_disk_bytes\{kind="build",target="build"\} (\S+)$`)
	var scraped string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		// bash's /dev/tcp: minbase has no curl.
		scraped, _, _ = c.exec(10*time.Second, "bash", "-c",
			`exec 3<>/dev/tcp/127.0.0.1/9100 && printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3 && cat <&3`)
		if sample.MatchString(scraped) || time.Now().After(deadline) {
			break
		}
	}
	m := sample.FindStringSubmatch(scraped)
	if m == nil {
		t.Fatalf("node_exporter does not serve gomaint_cache_disk_bytes for the build cache; gomaint lines:\n%s\n%s",
			grepLines(scraped, "gomaint"), c.out("systemctl", "status", "--no-pager", "-n", "20", "prometheus-node-exporter.service"))
	}
	if got, err := strconv.ParseFloat(m[1], 64); err != nil || int64(got) != want {
		t.Errorf("node_exporter serves gomaint_cache_disk_bytes %s for the build cache; du -sB1 says %d", m[1], want)
	}
	for _, family := range []string{"gomaint_cache_limit_bytes", "gomaint_goroot_ok 1", "gomaint_last_clean_success_timestamp_seconds", `gomaint_findings{code="OVER_LIMIT",severity="warning",target="build"} 0`} {
		if !strings.Contains(scraped, family) {
			t.Errorf("node_exporter does not serve %s; gomaint lines:\n%s", family, grepLines(scraped, "gomaint"))
		}
	}
	if regexp.MustCompile(`(?m)^node_textfile_scrape_error 1$`).MatchString(scraped) { // not its HELP, which starts "1 if"
		t.Errorf("node_exporter reports a textfile scrape error:\n%s\n%s\n%s", c.out("ls", "-la", textfiles),
			c.out("journalctl", "--no-pager", "-n", "20", "-u", "prometheus-node-exporter.service"), grepLines(scraped, "textfile"))
	}
}

func grepLines(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
