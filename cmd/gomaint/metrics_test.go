package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// promValue is the value of one sample of a textfile, e.g.
// `gomaint_cache_disk_bytes{target="build",kind="build"}`; ok is false if absent.
func promValue(text, sample string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

// TestMetricsFromCLIRuns: with metrics_dir set and no daemon, `gomaint
// audit` and `gomaint clean` (what the timer and cron run) write
// gomaint.prom with the daemon's families; a clean keeps the last audit's
// time and adds to the trim counter. With a daemon running, the daemon
// owns the file and the CLI leaves it alone (issue 12.4).
func TestMetricsFromCLIRuns(t *testing.T) {
	dir := testenv.RealCaches(t)
	prom := t.TempDir()
	cache := filepath.Join(dir, "gocache")
	cfg := writeConfig(t, fmt.Sprintf("[daemon]\naudit_schedule = \"\"\nmetrics_dir = %q\n[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\nmax_size = \"1GiB\"\n\n[[target]]\nname = \"mod\"\nkind = \"mod\"\npath = %q\n",
		prom, cache, filepath.Join(dir, "gomodcache")))
	n := newNotifySocket(t)
	env := serveEnv(t, n)
	file := filepath.Join(prom, "gomaint.prom")
	read := func() string {
		t.Helper()
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("after the run: %v", err)
		}
		return string(data)
	}
	build := `{target="build",kind="build"}`

	r := gomaint(t, env, "audit", "--json", "--config", cfg, "--log", "none")
	var rep struct {
		Caches []struct {
			Name      string `json:"name"`
			DiskBytes int64  `json:"disk_bytes"`
		} `json:"caches"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil {
		t.Fatalf("audit: %+v", r)
	}
	text := read()
	for sample, want := range map[string]float64{
		"gomaint_cache_disk_bytes" + build:  float64(rep.Caches[0].DiskBytes),
		"gomaint_cache_limit_bytes" + build: 1 << 30,
		"gomaint_goroot_ok":                 1,
		`gomaint_findings{target="build",code="OVER_LIMIT",severity="warning"}`: 0,
		"gomaint_trim_freed_bytes_total" + build:                                0,
	} {
		if got, ok := promValue(text, sample); !ok || got != want {
			t.Errorf("after the audit %s = %v (present %v), want %v\n%s", sample, got, ok, want, text)
		}
	}
	audited, ok := promValue(text, "gomaint_last_audit_timestamp_seconds"+build)
	if !ok || time.Since(time.Unix(int64(audited), 0)) > time.Minute {
		t.Errorf("last audit %v", audited)
	}
	if _, ok := promValue(text, `gomaint_cache_disk_bytes{target="mod",kind="mod"}`); !ok {
		t.Errorf("no figures for the module cache:\n%s", text)
	}

	// A clean that removes something: old action entries.
	old := time.Now().Add(-72 * time.Hour)
	filepath.Walk(cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, "-a") {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	r = gomaint(t, env, "clean", "--json", "--max-age", "2d", "--config", cfg, "--log", "none")
	var sum struct {
		Summary struct {
			Target         string `json:"target"`
			FreedBytes     int64  `json:"freed_bytes"`
			DiskBytesAfter int64  `json:"disk_bytes_after"`
		} `json:"summary"`
	}
	json.Unmarshal([]byte(strings.Split(r.stdout, "\n")[0]), &sum)
	if r.code != 0 || sum.Summary.Target != "build" || sum.Summary.FreedBytes == 0 {
		t.Fatalf("clean: %+v", r)
	}
	text = read()
	if got, _ := promValue(text, "gomaint_trim_freed_bytes_total"+build); got != float64(sum.Summary.FreedBytes) {
		t.Errorf("trim counter %v, want %d", got, sum.Summary.FreedBytes)
	}
	if got, _ := promValue(text, "gomaint_cache_disk_bytes"+build); got != float64(sum.Summary.DiskBytesAfter) || got >= float64(rep.Caches[0].DiskBytes) {
		t.Errorf("cache bytes after the clean %v, want %d", got, sum.Summary.DiskBytesAfter)
	}
	if got, _ := promValue(text, "gomaint_last_audit_timestamp_seconds"+build); got != audited {
		t.Errorf("a clean changed the last audit time: %v, was %v", got, audited)
	}
	if _, ok := promValue(text, "gomaint_last_clean_success_timestamp_seconds"+build); !ok {
		t.Errorf("no last clean success:\n%s", text)
	}
	// The counter counts on across runs.
	gomaint(t, env, "clean", "--config", cfg, "--log", "none")
	if got, _ := promValue(read(), "gomaint_trim_freed_bytes_total"+build); got != float64(sum.Summary.FreedBytes) {
		t.Errorf("trim counter after a clean that freed nothing %v, want %d", got, sum.Summary.FreedBytes)
	}

	// One writer at a time: while another run holds the file's lock, an
	// audit waits, then leaves the file alone and says so.
	lockFile := filepath.Join(strings.TrimPrefix(env[1], "XDG_RUNTIME_DIR="), "gomaint", "locks", "file-metrics.lock")
	fd, err := syscall.Open(lockFile, syscall.O_RDWR|syscall.O_CREAT, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Flock(fd, syscall.LOCK_EX)
	before := read()
	r = gomaint(t, env, "audit", "--config", cfg, "--log", "none")
	syscall.Close(fd)
	if !strings.Contains(r.stderr, "gomaint.prom not updated") || read() != before {
		t.Errorf("audit with the metrics lock held elsewhere: %+v", r)
	}

	// A running daemon owns the file: the CLI does not even take its
	// lock. The test holds the lock meanwhile, so that the daemon, which
	// writes the file whenever its state changes, cannot write it either.
	startServe(t, env, "--config", cfg)
	n.until(t, "READY=1", 10*time.Second)
	n.until(t, "last audit", 20*time.Second)
	if fd, err = syscall.Open(lockFile, syscall.O_RDWR, 0); err != nil {
		t.Fatal(err)
	}
	syscall.Flock(fd, syscall.LOCK_EX)
	os.Remove(file)
	r = gomaint(t, env, "audit", "--config", cfg, "--log", "none")
	_, statErr := os.Stat(file)
	syscall.Close(fd)
	if strings.Contains(r.stderr, "not updated") || statErr == nil {
		t.Errorf("the CLI went for %s while a daemon runs: %+v", file, r)
	}
}
