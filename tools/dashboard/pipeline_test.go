package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/buildfail"
	"github.com/gomaint/gomaint/maint/daemon"
	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestPipeline runs the metrics path a user runs: a real `gomaint serve`
// writes gomaint.prom while real go builds grow its build cache and a
// clean trims it; Debian's prometheus-node-exporter serves the file
// through its textfile collector; Debian's prometheus scrapes it every
// second and evaluates the packaged alert rules. Then every query of the
// dashboard is evaluated through Prometheus's HTTP API as Grafana would,
// and every alert rule's expression, and each answer must have the
// expected shape: figures for every target, the trim's freed bytes, the
// over-limit finding, and GomaintCacheOverLimit pending for the cache the
// builds pushed over its max_size.
func TestPipeline(t *testing.T) {
	testenv.Command(t, "go")
	promtool := testenv.Command(t, "promtool")
	dir := testenv.Dir(t)
	bin := buildGomaint(t, dir)
	goEnv := testenv.GoEnv(dir)
	gocache, gomodcache := filepath.Join(dir, "gocache"), filepath.Join(dir, "gomodcache")

	// A module cache to verify, and a build cache from a first build.
	testenv.Run(t, goEnv, testenv.Module(t, dir), "go", "mod", "download")
	prog := program(t, dir)
	testenv.Run(t, goEnv, prog, "go", "build", "-o", os.DevNull, ".")
	built, _, _, err := scan.Measure(gocache)
	if err != nil {
		t.Fatal(err)
	}
	// Room for the first build, not for two more.
	limit := built * 5 / 4
	textDir := filepath.Join(dir, "textfile")
	if err := os.Mkdir(textDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The user's own configuration file, where both the daemon and the
	// timer's `gomaint clean` (which hands off to the daemon only then)
	// find it.
	confHome := filepath.Join(dir, "config")
	if err := os.MkdirAll(filepath.Join(confHome, "gomaint"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(confHome, "gomaint", "gomaint.toml"), fmt.Sprintf(`[daemon]
audit_schedule = ""
verify_schedule = ""
verify_full_schedule = ""
jitter = "0s"
metrics_dir = %q

[[target]]
name = "build"
kind = "build"
path = %q
max_size = "%d"
max_age = "2d"
min_age = "1h"

[[target]]
name = "mod"
kind = "mod"
path = %q

# The daemon spools its findings' alerts; the test's flush delivers them.
[[alert]]
name = "hook"
exec = ["/bin/sh", "-c", "cat >/dev/null"]
`, textDir, gocache, limit, gomodcache))

	exporter := nodeExporter(t, textDir)
	from := time.Now()
	prom := prometheusServer(t, dir, exporter, abs(t, rulesFile))

	run := t.TempDir()
	env := []string{"XDG_CONFIG_HOME=" + confHome, "XDG_RUNTIME_DIR=" + run, "XDG_STATE_HOME=" + filepath.Join(run, "state")}
	start(t, env, bin, "serve", "--log", "stderr")
	getenv := func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return run
		}
		return os.Getenv(k)
	}
	socket := paths.Socket(false, getenv)
	build := `{target="build"}`
	waitFor(t, prom, "the daemon's first figures, scraped", "gomaint_trim_freed_bytes_total"+build+" == 0")

	// A failed build, as gomaint run counts it beside the running daemon,
	// under the lock the daemon takes: every later textfile of the
	// daemon's carries it over.
	if err := metrics.BuildFailed(paths.LockDir(false, getenv), textDir, []string{buildfail.DiskFull}); err != nil {
		t.Fatal(err)
	}
	failed := `gomaint_build_failures_total{reason="disk_full"}`
	waitFor(t, prom, "the failed build, scraped", failed+" == 1")

	// Days pass for the first build's entries; the timer's clean (handed
	// to the daemon) removes them, being older than max_age.
	age(t, gocache, 72*time.Hour)
	if out := testenv.Run(t, append(os.Environ(), env...), "", bin, "clean", "--log", "none"); !strings.Contains(out, "cleaned by the running gomaint daemon") {
		t.Fatalf("gomaint clean did not hand off to the daemon:\n%s", out)
	}
	waitFor(t, prom, "the trim's freed bytes, scraped", "gomaint_trim_freed_bytes_total"+build+" > 0")

	// Two more builds, each as big as the first: over max_size, with
	// entries too young (min_age) for the daemon's limit trim to remove.
	testenv.Run(t, goEnv, prog, "go", "build", "-gcflags=all=-N", "-o", os.DevNull, ".")
	testenv.Run(t, goEnv, prog, "go", "build", "-gcflags=all=-l", "-o", os.DevNull, ".")
	ask(t, socket, daemon.Request{Command: "audit"})
	// The sender delivers what the audit spooled; the daemon's next
	// textfile counts it.
	testenv.Run(t, append(os.Environ(), env...), "", bin, "alert", "flush", "--log", "none")
	// Two verifications: the counter's first value is no increase. The
	// daemon answers before it writes the textfile: wait for Prometheus.
	ask(t, socket, daemon.Request{Command: "verify", Target: "mod"})
	ok := `gomaint_verify_modules_total{target="mod",result="ok"}`
	first := waitFor(t, prom, "the first verification, scraped", ok+" > 0")[0].last()
	ask(t, socket, daemon.Request{Command: "verify", Target: "mod"})
	waitFor(t, prom, "the second verification, scraped", fmt.Sprintf("%s == %v", ok, 2*first))
	waitFor(t, prom, "the failed build after the daemon's writes", failed+" == 1")
	snap, err := metrics.Read(textDir)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, prom, "the over-limit alert, pending", `ALERTS{alertname="GomaintCacheOverLimit",alertstate="pending",target="build"}`)
	to := time.Now()

	// node_exporter read the file without an error, and the linter finds
	// nothing in it.
	if ss, err := prom.query(t, "node_textfile_scrape_error", to); err != nil || len(ss) != 1 || ss[0].last() != 0 {
		t.Errorf("node_textfile_scrape_error: %v %s", err, dump(ss))
	}
	textfile := filepath.Join(textDir, metrics.FileName)
	lint := exec.Command(promtool, "check", "metrics")
	lint.Stdin = openFile(t, textfile)
	if out, err := lint.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics %s: %v\n%s", textfile, err, out)
	}

	checkDashboard(t, prom, exporter, from, to)
	checkRules(t, prom, snap, to)
}

// checkDashboard evaluates every variable and panel query of the
// committed dashboard over [from, to], as Grafana would with every
// instance and target chosen, and holds each to its expected shape.
func checkDashboard(t *testing.T, prom promAPI, instance string, from, to time.Time) {
	t.Helper()
	qs, vars := dashboardQueries(t)
	values := map[string][]string{"instance": {instance}, "target": {"build", "mod"}}
	chosen := map[string]string{}
	for _, v := range vars {
		if vs, ok := values[v]; ok {
			// Grafana's format of several values in a PromQL regex: each
			// quoted for the regex, then for the string literal.
			var quoted []string
			for _, s := range vs {
				quoted = append(quoted, strings.ReplaceAll(regexp.QuoteMeta(s), `\`, `\\`))
			}
			chosen[v] = "(" + strings.Join(quoted, "|") + ")"
		}
	}
	checked := map[string]bool{}
	for _, q := range qs {
		checked[q.where] = true
		// $__rate_interval at a 1s scrape interval is 4 scrapes.
		expr, err := substitute(q.expr, "4s", chosen)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		if q.labelOf != "" {
			got, err := prom.labelValues(t, q.labelOf, expr, from, to)
			if err != nil {
				t.Errorf("%s: %v", q.where, err)
			} else if want := values[strings.TrimPrefix(q.where, "variable $")]; !slices.Equal(got, want) {
				t.Errorf("%s: label_values gives %q, want %q", q.where, got, want)
			}
			continue
		}
		ss, err := prom.queryRange(t, expr, from, to, time.Second)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		want, ok := panelShapes[q.where]
		if !ok {
			t.Errorf("%s: no expected shape in panelShapes: add one", q.where)
			continue
		}
		if err := want(ss); err != nil {
			t.Errorf("%s: %s:\n%v\n%s", q.where, expr, err, dump(ss))
		}
	}
	for where := range panelShapes {
		if !checked[where] {
			t.Errorf("panelShapes has %s, which the dashboard does not", where)
		}
	}
}

// checkRules evaluates every alert rule's expression at the end and
// compares the targets it returns with what the textfile says.
func checkRules(t *testing.T, prom promAPI, snap metrics.Snapshot, at time.Time) {
	t.Helper()
	want := ruleTargets(snap)
	for _, q := range ruleQueries(t) {
		name := strings.TrimPrefix(q.where, "rule ")
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no expected result in ruleTargets: add one", q.where)
			continue
		}
		ss, err := prom.query(t, q.expr, at)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		var got []string
		for _, s := range ss {
			got = append(got, s.labels["target"])
		}
		slices.Sort(got)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: %s gives targets %q, want %q\n%s", q.where, q.expr, got, w, dump(ss))
		}
	}
}

// ruleTargets is, per alert, the targets its expression must return for
// the figures in snap ("" for a machine-wide series).
func ruleTargets(s metrics.Snapshot) map[string][]string {
	findings := func(match func(metrics.Finding) bool) []string {
		var out []string
		for _, f := range s.Findings {
			if f.Count > 0 && match(f) && !slices.Contains(out, f.Target) {
				out = append(out, f.Target)
			}
		}
		return out
	}
	var small []string
	for _, t := range s.Targets {
		if t.LimitBytes > 0 && t.FSFreeBytes < t.LimitBytes-t.DiskBytes || t.LimitBytes == 0 && t.FSFreeBytes < t.DiskBytes {
			small = append(small, t.Name)
		}
	}
	return map[string][]string{
		// What the test set out to make.
		"GomaintCacheOverLimit": {"build"},
		// Audited, verified and GOROOT checked just now.
		"GomaintAuditStale":     nil,
		"GomaintNeverAudited":   nil,
		"GomaintGorootNotOK":    nil,
		"GomaintVerifyStale":    nil,
		"GomaintGorootModified": findings(func(f metrics.Finding) bool { return f.Code == "GOROOT_MODIFIED" }),
		// Whatever this machine's disk and caches are like.
		"GomaintLowDisk": findings(func(f metrics.Finding) bool { return f.Code == "LOW_DISK" || f.Code == "INODE_PRESSURE" }),
		"GomaintFindingError": findings(func(f metrics.Finding) bool {
			return f.Severity == "error" && !strings.HasPrefix(f.Code, "GOROOT_")
		}),
		"GomaintDiskSmallerThanCacheLimit": small,
		// Minutes of history: no hour against a day before; a day's growth
		// stopped by max_size (build), or none (mod).
		"GomaintCacheHitRatioCollapsed":  nil,
		"GomaintCacheFillsDiskWithinDay": nil,
		"GomaintCacheThrashing":          findings(func(f metrics.Finding) bool { return f.Code == "LIMIT_THRASHING" }),
	}
}

// waitFor waits until expr has a result in Prometheus, for up to two
// minutes (scrapes are every second), and returns it.
func waitFor(t *testing.T, prom promAPI, what, expr string) []series {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ss, err := prom.query(t, expr, time.Now())
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if len(ss) > 0 {
			return ss
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within two minutes (%s)", what, expr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ask sends a control request to the daemon, as `gomaint clean` does.
func ask(t *testing.T, socket string, req daemon.Request) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := daemon.Ask(ctx, socket, req); err != nil {
		t.Fatalf("control %s %s: %v", req.Command, req.Target, err)
	}
}

// buildGomaint builds the product's binary from the repository, with the
// product's own go.mod.
func buildGomaint(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "gomaint")
	testenv.Run(t, nil, filepath.Join("..", ".."), "go", "build", "-o", bin, "./cmd/gomaint")
	return bin
}

// program is a module whose build fills a build cache with the runtime's
// packages: small enough to build three ways in a test.
func program(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "prog")
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(p, "go.mod"), "module example.com/prog\n\ngo 1.22\n")
	writeFile(t, filepath.Join(p, "main.go"), "package main\n\nfunc main() {}\n")
	return p
}

// age makes every file in a build cache's shards last used d ago.
func age(t *testing.T, cache string, d time.Duration) {
	t.Helper()
	when := time.Now().Add(-d)
	err := filepath.WalkDir(cache, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() && filepath.Dir(p) != cache {
			err = os.Chtimes(p, when, when)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func dump(ss []series) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "  %v: %d samples, last %v\n", s.labels, len(s.values), s.last())
	}
	return b.String()
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func openFile(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
