//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/journal"
)

// watchConfig: one watched build cache that does not exist when the
// daemon starts.
const watchConfig = `[goroot]
path = "/usr/local/go"

[daemon]
watch = true
metrics_dir = "/var/lib/prometheus/node-exporter"

[[target]]
name = "late"
kind = "build"
path = "/var/cache/go/late"
max_size = "8MiB"
min_age = "1h"
`

const (
	lateCache = "/var/cache/go/late"
	promFile  = "/var/lib/prometheus/node-exporter/gomaint.prom"
	lateLimit = 8 * mib
	helloDir  = "/root/hello"
	stageDir  = "/root/stage" // a cache filled by a real go build, then aged
)

// TestWatchLifecycle (issue 12): the installed daemon under systemd keeps
// a build cache to its limit through its life: created after the start,
// removed with rm -rf, made again by a real go build; and, when a limit
// leaves the watch incomplete, says so (systemctl status, gomaint status,
// journal) and still holds the limit by rescans: an open-file limit
// (LimitNOFILE) and inotify watches used up in the daemon's own user
// namespace.
func TestWatchLifecycle(t *testing.T) {
	repo, goroot := prerequisites(t)
	built := buildPackages(t, repo, "deb", version1)
	c := boot(t, rootfsTarball(t, baseSuite), []string{goroot + ":" + goHost}, nil)
	deb := c.put(t, built(t)...)[0]
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("at the end of the failed test:\n%s\n%s\n%s", c.out("systemctl", "status", "--no-pager", "-n", "0", "gomaint.service"),
				c.out("gomaint", "status", "--system"),
				c.out("journalctl", "--no-pager", "-o", "short-precise", "-n", "60", "SYSLOG_IDENTIFIER=gomaint"))
		}
	})
	c.sh(t, `ln -sfn `+goHost+` `+goRoot)
	c.runT(t, 3*time.Minute, "dpkg", "-i", deb)
	if err := os.WriteFile(filepath.Join(c.root, "etc/gomaint/gomaint.toml"), []byte(watchConfig), 0o644); err != nil {
		t.Fatal(err)
	}

	// A real go build fills a cache aside, aged as if built hours ago so
	// that min_age (1h at least) lets a trim take it.
	c.sh(t, `mkdir -p `+helloDir+` && cd `+helloDir+` && printf 'module hello\n\ngo 1.22\n' > go.mod &&
printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n' > main.go`)
	goBuild(t, c, stageDir)
	c.sh(t, `find `+stageDir+` -exec touch -h -d '-3 hours' {} +`)
	c.sh(t, `mkdir -p `+filepath.Dir(promFile))

	start := time.Now()
	resetStartLimit(t, c)
	c.run(t, "systemctl", "restart", "gomaint.service")
	watchState(t, c, start, "absent", 30*time.Second)

	// 1. The cache appears after the start.
	at := time.Now()
	c.run(t, "cp", "-a", stageDir, lateCache)
	watchState(t, c, at, "watching", 30*time.Second)
	held(t, c, at, 30*time.Second, "a cache made after systemctl start gomaint")

	// 2. rm -rf: absent, and gomaint status says so.
	at = time.Now()
	c.run(t, "rm", "-rf", lateCache)
	watchState(t, c, at, "absent", 30*time.Second)
	if out := c.out("gomaint", "status", "--system"); !strings.Contains(out, "not watched") {
		t.Errorf("gomaint status after rm -rf of the cache does not say it is not watched:\n%s", out)
	}

	// 3. A real go build makes it again: watched at once, its growth seen
	// live (a limit trim runs, though min_age keeps what the build just
	// wrote); once those entries are older than min_age, held.
	at = time.Now()
	goBuild(t, c, lateCache)
	watchState(t, c, at, "watching", 30*time.Second)
	if es := c.waitJournal(t, 30*time.Second, nil, "GOMAINT_EVENT=trim", "GOMAINT_TRIGGER=limit", "GOMAINT_TARGET=late", since(at)); len(es) == 0 {
		t.Errorf("no limit trim after a go build filled the re-made cache past its limit")
	}
	aged := time.Now()
	c.sh(t, `find `+lateCache+` -exec touch -h -d '-3 hours' {} +`)
	// The trim min_age blocked is retried after a growing pause (up to
	// 10 minutes in general; here about a minute at most).
	held(t, c, aged, 2*time.Minute, "a cache a real go build made again after rm -rf")

	// 3b. Issue 16: real builds in the watched cache are counted, and the
	// counters reach gomaint.prom: the first writes what the trims took
	// (misses), the second, within min_age of it, finds it (hits).
	goBuild(t, c, lateCache)
	goBuild(t, c, lateCache)
	countedInProm(t, c, 90*time.Second)

	// 4. Degraded: an open-file limit too low for every shard's watch.
	dropIn := filepath.Join(c.root, "etc/systemd/system/gomaint.service.d")
	if err := os.MkdirAll(dropIn, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dropIn, "nofile.conf"), []byte("[Service]\nLimitNOFILE=160\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.run(t, "systemctl", "daemon-reload")
	at = time.Now()
	resetStartLimit(t, c)
	c.run(t, "systemctl", "restart", "gomaint.service")
	es := watchState(t, c, at, "degraded", 30*time.Second)
	if e := es[len(es)-1]; e["MESSAGE_ID"] != journal.Watch.ID || !strings.Contains(e["GOMAINT_FIX"], "LimitNOFILE") || e["PRIORITY"] != "4" {
		t.Errorf("the degraded event does not say what to raise: %s", e)
	}
	saysDegraded(t, c, "")
	at = time.Now()
	c.run(t, "cp", "-a", stageDir+"/.", lateCache)
	held(t, c, at, 100*time.Second, "degraded: growth held by the rescans every minute")
	countsSane(t, c)

	// 5. Degraded: inotify watches run out. PrivateUsers=yes gives the
	// daemon a user namespace of its own (root mapped to root, so it still
	// trims root's cache) with its own /proc/sys/user/max_inotify_watches.
	// The container's /proc/sys is read-only, so the test writes it from
	// the host's /proc after entering that user namespace only: the write
	// lowers the daemon's limit and no one else's, and it ends with the
	// daemon.
	before := hostInotifyLimits(t)
	t.Cleanup(func() {
		if after := hostInotifyLimits(t); after != before {
			t.Errorf("the host's inotify limits changed: %s, now %s", before, after)
		}
	})
	os.Remove(filepath.Join(dropIn, "nofile.conf"))
	if err := os.WriteFile(filepath.Join(dropIn, "userns.conf"), []byte("[Service]\nPrivateUsers=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.run(t, "systemctl", "daemon-reload")
	c.run(t, "rm", "-rf", lateCache) // so no watch is made before the limit is lowered
	at = time.Now()
	resetStartLimit(t, c)
	c.run(t, "systemctl", "restart", "gomaint.service")
	watchState(t, c, at, "absent", 30*time.Second)
	daemon := c.hostPID(t, c.show(t, "gomaint.service", "MainPID")["MainPID"])
	if ns := userNS(t, daemon); ns == userNS(t, c.pid1) || ns == userNS(t, os.Getpid()) {
		t.Fatalf("with PrivateUsers=yes the daemon (pid %d on the host) is still in the user namespace %s; not lowering a limit there", daemon, ns)
	}
	const watches = 40 // of the 257 the watch needs
	lower := exec.Command("nsenter", "-t", strconv.Itoa(daemon), "-U", "sh", "-ec",
		fmt.Sprintf("echo %d > /proc/sys/user/max_inotify_watches; cat /proc/sys/user/max_inotify_watches", watches))
	if out, err := lower.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != strconv.Itoa(watches) {
		t.Fatalf("lowering max_inotify_watches in the daemon's user namespace: %v\n%s", err, out)
	}
	at = time.Now()
	c.run(t, "cp", "-a", stageDir, lateCache)
	es = watchState(t, c, at, "degraded", 30*time.Second)
	if e := es[len(es)-1]; e["GOMAINT_LIMIT"] != "fs.inotify.max_user_watches" || !strings.Contains(e["GOMAINT_FIX"], "max_user_watches") {
		t.Errorf("the degraded event does not name the inotify watch limit: %s", e)
	}
	saysDegraded(t, c, "max_user_watches")
	at = time.Now()
	c.run(t, "cp", "-a", stageDir+"/.", lateCache)
	held(t, c, at, 100*time.Second, "inotify watches used up: growth held by the rescans every minute")
	countsSane(t, c)

	os.Remove(filepath.Join(dropIn, "userns.conf"))
	c.run(t, "systemctl", "daemon-reload")
	resetStartLimit(t, c)
	c.run(t, "systemctl", "restart", "gomaint.service")
}

// countedInProm waits for gomaint.prom to count hits and misses of the
// late cache, and checks gomaint stats shows them.
func countedInProm(t *testing.T, c *container, within time.Duration) {
	t.Helper()
	sample := func(text, name string) int64 {
		m := regexp.MustCompile(`(?m)^` + name + `\{target="late",kind="build"\} ([0-9]+)$`).FindStringSubmatch(text)
		if m == nil {
			return -1
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return n
	}
	deadline := time.Now().Add(within)
	for {
		data, _ := os.ReadFile(filepath.Join(c.root, promFile))
		hits, misses := sample(string(data), "gomaint_cache_hits_total"), sample(string(data), "gomaint_cache_misses_total")
		if hits > 0 && misses > 0 {
			t.Logf("gomaint.prom after a go build: %d hits, %d misses", hits, misses)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no hits and misses counted in %s within %s after two go builds:\n%s", promFile, within, data)
		}
		time.Sleep(time.Second)
	}
	if out := c.out("gomaint", "stats", "--system", "--target", "late"); !strings.Contains(out, "hit ratio") {
		t.Errorf("gomaint stats does not show the counts:\n%s", out)
	}
}

// saysDegraded checks that systemctl status (within 20 seconds) and
// gomaint status say the watch is degraded, the latter naming limit.
func saysDegraded(t *testing.T, c *container, limit string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p := c.show(t, "gomaint.service", "StatusText")
		if strings.Contains(p["StatusText"], "watch degraded") {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("systemctl status does not say degraded: StatusText=%q", p["StatusText"])
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if out := c.out("gomaint", "status", "--system"); !strings.Contains(out, "degraded") || !strings.Contains(out, "WATCH_DEGRADED") || !strings.Contains(out, limit) {
		t.Errorf("gomaint status does not say degraded (by %q):\n%s", limit, out)
	}
}

// countsSane: after trims of shards the watch lacks, gomaint status shows
// no negative file count (the watch's estimate never counted them).
func countsSane(t *testing.T, c *container) {
	t.Helper()
	if out := c.out("gomaint", "status", "--system"); negativeFiles.MatchString(out) {
		t.Errorf("gomaint status shows a negative file count:\n%s", out)
	}
}

var negativeFiles = regexp.MustCompile(`in -[0-9]+ files`)

// hostInotifyLimits returns the inotify watch limits of the host's (the
// initial) user namespace.
func hostInotifyLimits(t *testing.T) string {
	t.Helper()
	var s []string
	for _, f := range []string{"/proc/sys/user/max_inotify_watches", "/proc/sys/fs/inotify/max_user_watches"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s = append(s, f+"="+strings.TrimSpace(string(b)))
	}
	return strings.Join(s, " ")
}

// userNS names the user namespace of a host pid.
func userNS(t *testing.T, pid int) string {
	t.Helper()
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// hostPID returns the host's pid of the container's process pid: the
// process in the container's pid namespace whose innermost pid it is.
func (c *container) hostPID(t *testing.T, pid string) int {
	t.Helper()
	pidNS := func(p string) string { ns, _ := os.Readlink("/proc/" + p + "/ns/pid"); return ns }
	want := pidNS(strconv.Itoa(c.pid1))
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil || pidNS(e.Name()) != want {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "NSpid:" && f[len(f)-1] == pid {
				n, _ := strconv.Atoi(e.Name())
				return n
			}
		}
	}
	t.Fatalf("no process with pid %s in the container's pid namespace", pid)
	return 0
}

// goBuild builds the hello module with its build cache at cache.
func goBuild(t *testing.T, c *container, cache string) {
	t.Helper()
	start := time.Now()
	c.runT(t, 5*time.Minute, "env", "GOCACHE="+cache, "GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=-mod=mod", "HOME=/root",
		"sh", "-c", "cd "+helloDir+" && "+goRoot+"/bin/go build -o /dev/null .")
	t.Logf("go build with GOCACHE=%s: %s", cache, time.Since(start).Round(100*time.Millisecond))
}

// watchState waits for a watch event of the late target in state.
func watchState(t *testing.T, c *container, from time.Time, state string, within time.Duration) []entry {
	t.Helper()
	es := c.waitJournal(t, within, nil, "GOMAINT_EVENT=watch", "GOMAINT_TARGET=late", "GOMAINT_WATCH_STATE="+state, since(from))
	if len(es) == 0 {
		t.Fatalf("no watch event %q for %s within %s; gomaint's entries:\n%s", state, lateCache, within,
			entries(c.journal(t, "SYSLOG_IDENTIFIER=gomaint", since(from))))
	}
	return es
}

// held waits until the late cache is under its limit.
func held(t *testing.T, c *container, from time.Time, within time.Duration, what string) {
	t.Helper()
	deadline := from.Add(within)
	for {
		n, err := diskBytes(filepath.Join(c.root, lateCache))
		if err == nil && n <= lateLimit {
			t.Logf("%s: %d bytes, under %d, %s after it began", what, n, lateLimit, time.Since(from).Round(100*time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d bytes (%v) after %s, over the limit %d\n%s", what, n, err, within, lateLimit,
				entries(c.journal(t, "SYSLOG_IDENTIFIER=gomaint", since(from))))
		}
		time.Sleep(250 * time.Millisecond)
	}
}
