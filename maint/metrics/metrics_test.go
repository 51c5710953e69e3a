package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/testenv"
)

const gib = 1 << 30

// full has a value for every field, so Format emits every family.
func full() Snapshot {
	return Snapshot{
		Targets: []Target{
			{Name: "mod", Kind: "mod", Path: "/var/cache/go/mod", DiskBytes: 3 * gib, Files: 72000,
				FSFreeBytes: 50 * gib, FSFreeInodes: 1000000, TrimFreedBytesTotal: 12345,
				LastAudit: time.Unix(1700000000, 250e6), LastCleanSuccess: time.Unix(1700000100, 0),
				VerifyModules:     map[string]int64{"ok": 70, "busy": 0, "modified": 1, "unverifiable": 2, "zip_corrupt": 0, "unreadable": 0},
				LastVerifySuccess: time.Unix(1699990000, 0)},
			{Name: "build", Kind: "build", Path: "/var/cache/go/build", DiskBytes: 2 * gib, Files: 1444, LimitBytes: 10 * gib,
				FSFreeBytes: 50 * gib, FSFreeInodes: 1000000, TrimFreedBytesTotal: 0,
				LastAudit: time.Unix(1700000000, 0), LastCleanSuccess: time.Unix(1700000200, 0),
				Counts: &Counts{Hits: 900, Misses: 100, WrittenBytes: 5 << 20}, EvictedBytesTotal: 4 << 20, OldestEntryUnix: 1700000000 - 86400},
		},
		Findings: []Finding{
			{Target: "build", Code: "LOW_DISK", Severity: "warning", Count: 1},
			{Target: "build", Code: "LOW_DISK", Severity: "warning", Count: 2},
			{Target: "", Code: "GOROOT_MISSING", Severity: "error", Count: 1},
		},
		GorootOK:      true,
		Now:           time.Unix(1700000000, 0),
		BuildFailures: map[string]int64{"disk_full": 2, "other": 1},
	}
}

func format(t *testing.T, s Snapshot) string {
	t.Helper()
	var b bytes.Buffer
	if err := Format(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// series is one sample line of an exposition, labels unescaped.
type series struct {
	name   string
	labels map[string]string
	value  string
}

// parse reads Format's output strictly enough to catch a malformed line.
func parse(t *testing.T, text string) (help, typ map[string]int, ss []series) {
	t.Helper()
	help, typ = map[string]int{}, map[string]int{}
	line := regexp.MustCompile(`^([a-z_]+)(?:\{(.*)\})? (\S+)$`)
	pair := regexp.MustCompile(`^([a-z_]+)="((?:[^"\\]|\\.)*)",?`)
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "#" {
			switch f[1] {
			case "HELP":
				help[f[2]]++
			case "TYPE":
				typ[f[2]]++
			}
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("malformed sample line %q", l)
		}
		s := series{name: m[1], labels: map[string]string{}, value: m[3]}
		for rest := m[2]; rest != ""; {
			p := pair.FindStringSubmatch(rest)
			if p == nil {
				t.Fatalf("malformed labels in %q", l)
			}
			s.labels[p[1]] = strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\n`, "\n").Replace(p[2])
			rest = rest[len(p[0]):]
		}
		ss = append(ss, s)
	}
	return help, typ, ss
}

func find(ss []series, name string, labels map[string]string) []series {
	var out []series
next:
	for _, s := range ss {
		if s.name != name {
			continue
		}
		for k, v := range labels {
			if s.labels[k] != v {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

func TestFormatFamilies(t *testing.T) {
	text := format(t, full())
	help, typ, ss := parse(t, text)
	want := []string{
		"gomaint_build_failures_total", "gomaint_cache_counts_partial", "gomaint_cache_disk_bytes", "gomaint_cache_evicted_bytes_total", "gomaint_cache_files",
		"gomaint_cache_hits_total", "gomaint_cache_limit_bytes", "gomaint_cache_misses_total", "gomaint_cache_oldest_entry_age_seconds",
		"gomaint_cache_written_bytes_total", "gomaint_findings",
		"gomaint_fs_free_bytes", "gomaint_fs_free_inodes", "gomaint_goroot_ok",
		"gomaint_last_audit_timestamp_seconds", "gomaint_last_clean_success_timestamp_seconds",
		"gomaint_trim_freed_bytes_total", "gomaint_verify_last_success_timestamp_seconds", "gomaint_verify_modules_total",
	}
	var got []string
	for n, c := range typ {
		got = append(got, n)
		if c != 1 || help[n] != 1 {
			t.Errorf("%s: %d TYPE and %d HELP lines, want one each", n, c, help[n])
		}
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("families:\n got %v\nwant %v", got, want)
	}
	if !strings.Contains(text, "# TYPE gomaint_trim_freed_bytes_total counter\n") {
		t.Error("gomaint_trim_freed_bytes_total is not a counter")
	}

	// Each family's HELP and TYPE come right before its samples, families
	// sorted by name, samples sorted: the output is exactly sorted lines
	// within each family block.
	var fams []string
	for _, block := range strings.Split(text, "# HELP ")[1:] {
		lines := strings.Split(strings.TrimSuffix(block, "\n"), "\n")
		name := strings.Fields(lines[0])[0]
		fams = append(fams, name)
		if lines[1] != "# TYPE "+name+" "+strings.Fields(lines[1])[3] {
			t.Errorf("%s: TYPE line %q does not follow HELP", name, lines[1])
		}
		samples := lines[2:]
		if !sort.StringsAreSorted(samples) {
			t.Errorf("%s: samples not sorted:\n%s", name, strings.Join(samples, "\n"))
		}
		for _, s := range samples {
			if !strings.HasPrefix(s, name+"{") && !strings.HasPrefix(s, name+" ") {
				t.Errorf("%s: foreign sample %q in its block", name, s)
			}
		}
	}
	if !sort.StringsAreSorted(fams) {
		t.Errorf("families not sorted: %v", fams)
	}

	// Same snapshot, targets and findings in another order: same bytes.
	s := full()
	s.Targets[0], s.Targets[1] = s.Targets[1], s.Targets[0]
	s.Findings[0], s.Findings[2] = s.Findings[2], s.Findings[0]
	if again := format(t, s); again != text {
		t.Error("output depends on the order of the snapshot's slices")
	}

	check := func(name string, labels map[string]string, value string) {
		t.Helper()
		m := find(ss, name, labels)
		if len(m) != 1 || m[0].value != value {
			t.Errorf("%s%v: got %v, want one sample %s", name, labels, m, value)
		}
	}
	build := map[string]string{"target": "build", "kind": "build"}
	mod := map[string]string{"target": "mod", "kind": "mod"}
	check("gomaint_cache_disk_bytes", build, "2147483648")
	check("gomaint_cache_files", mod, "72000")
	check("gomaint_cache_limit_bytes", build, "10737418240")
	check("gomaint_fs_free_inodes", mod, "1000000")
	check("gomaint_trim_freed_bytes_total", mod, "12345")
	check("gomaint_trim_freed_bytes_total", build, "0")
	check("gomaint_last_audit_timestamp_seconds", mod, "1700000000.25")
	check("gomaint_last_clean_success_timestamp_seconds", build, "1700000200")
	check("gomaint_goroot_ok", nil, "1")
	check("gomaint_build_failures_total", map[string]string{"reason": "disk_full"}, "2")
	check("gomaint_build_failures_total", map[string]string{"reason": "goroot"}, "0")
	check("gomaint_verify_modules_total", map[string]string{"target": "mod", "result": "modified"}, "1")
	check("gomaint_verify_modules_total", map[string]string{"target": "mod", "result": "busy"}, "0")
	check("gomaint_verify_last_success_timestamp_seconds", map[string]string{"target": "mod"}, "1699990000")
	// Two entries with one key add up.
	check("gomaint_findings", map[string]string{"target": "build", "code": "LOW_DISK", "severity": "warning"}, "3")
	check("gomaint_findings", map[string]string{"code": "GOROOT_MISSING", "severity": "error"}, "1")
}

func TestFormatOmits(t *testing.T) {
	s := full()
	s.Targets[0].LastAudit = time.Time{}
	s.Targets[1].LastCleanSuccess = time.Time{}
	s.GorootOK = false
	_, _, ss := parse(t, format(t, s))
	// No limit: no sample, not a 0 that alerts would read as "0 bytes allowed".
	if m := find(ss, "gomaint_cache_limit_bytes", map[string]string{"target": "mod"}); len(m) != 0 {
		t.Errorf("limit emitted for a target without one: %v", m)
	}
	if m := find(ss, "gomaint_last_audit_timestamp_seconds", map[string]string{"target": "mod"}); len(m) != 0 {
		t.Errorf("zero LastAudit emitted: %v", m)
	}
	if m := find(ss, "gomaint_last_clean_success_timestamp_seconds", map[string]string{"target": "build"}); len(m) != 0 {
		t.Errorf("zero LastCleanSuccess emitted: %v", m)
	}
	if m := find(ss, "gomaint_goroot_ok", nil); len(m) != 1 || m[0].value != "0" {
		t.Errorf("gomaint_goroot_ok = %v, want 0", m)
	}
}

func TestFormatZeroFindings(t *testing.T) {
	s := full()
	s.Findings = nil
	_, _, ss := parse(t, format(t, s))
	n := 0
	for _, code := range finding.All() {
		d := code.Decl()
		for sev := finding.Info; sev <= finding.Error; sev++ {
			want := 0
			if code.Allows(sev) {
				want = 1
			}
			if d.MachineWide {
				m := find(ss, "gomaint_findings", map[string]string{"code": d.Name, "severity": sev.String()})
				if len(m) != want || want == 1 && (m[0].value != "0" || len(m[0].labels) != 2) {
					t.Errorf("%s/%s: got %v, want %d zero without a target", d.Name, sev, m, want)
				}
				n += want
				continue
			}
			for _, tg := range s.Targets {
				m := find(ss, "gomaint_findings", map[string]string{"target": tg.Name, "code": d.Name, "severity": sev.String()})
				if len(m) != want || want == 1 && m[0].value != "0" {
					t.Errorf("%s/%s/%s: got %v, want %d zero", tg.Name, d.Name, sev, m, want)
				}
				n += want
			}
		}
	}
	if got := len(find(ss, "gomaint_findings", nil)); got != n {
		t.Errorf("%d gomaint_findings samples, want %d", got, n)
	}
	// A code's range alone decides: WORLD_WRITABLE is always an error.
	if m := find(ss, "gomaint_findings", map[string]string{"code": "WORLD_WRITABLE"}); len(m) != len(s.Targets) || m[0].labels["severity"] != "error" {
		t.Errorf("WORLD_WRITABLE samples: %v, want one error per target", m)
	}
	// With no targets, the machine-wide codes are still there, as a
	// warning and as an error (goroot.required decides).
	_, _, ss = parse(t, format(t, Snapshot{}))
	if len(find(ss, "gomaint_findings", map[string]string{"code": "GOROOT_INVALID"})) != 2 {
		t.Error("no GOROOT_INVALID samples without targets")
	}
}

func TestFormatEscaping(t *testing.T) {
	name := "a\"b\\c\nd\xffe"
	text := format(t, Snapshot{Targets: []Target{{Name: name, Kind: "build", DiskBytes: 1}}})
	if !strings.Contains(text, `gomaint_cache_disk_bytes{target="a\"b\\c\nd`+"\uFFFD"+`e",kind="build"} 1`+"\n") {
		t.Errorf("label value not escaped:\n%s", text)
	}
	_, _, ss := parse(t, text)
	if m := find(ss, "gomaint_cache_disk_bytes", nil); len(m) != 1 || m[0].labels["target"] != strings.ToValidUTF8(name, "\uFFFD") {
		t.Errorf("escaped value does not read back: %v", m)
	}
	if got := escapeHelp("a\\b\nc\"d"); got != `a\\b\nc"d` {
		t.Errorf("escapeHelp = %q", got)
	}
}

func TestFormatDuplicateTarget(t *testing.T) {
	s := full()
	s.Targets = append(s.Targets, Target{Name: "build", Kind: "mod"})
	if err := Format(new(bytes.Buffer), s); err == nil || !strings.Contains(err.Error(), `"build"`) {
		t.Errorf("duplicate target: err = %v", err)
	}
}

func TestCountFindings(t *testing.T) {
	foreign, _ := finding.Lookup("FOREIGN_OWNER")
	got := CountFindings([]audit.Finding{
		{Code: foreign, Severity: finding.Warning, Cache: "build", Count: 12},
		{Code: goroot.Missing, Severity: finding.Error},
	})
	want := []Finding{{"build", "FOREIGN_OWNER", "warning", 1}, {"", "GOROOT_MISSING", "error", 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CountFindings = %v, want %v", got, want)
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Name() != FileName {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	// A umask that would make the file unreadable to node_exporter.
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)

	s := full()
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, FileName)
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode() != 0o644 {
		t.Errorf("mode %v, want -rw-r--r--", st.Mode())
	}
	if b, _ := os.ReadFile(p); string(b) != format(t, s) {
		t.Error("file differs from Format's output")
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}

	// A rename, not a rewrite in place: a reader holding the old file
	// keeps reading the old content in full.
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s.GorootOK = false
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f.Name()); string(b) != format(t, s) {
		t.Error("second Write not visible")
	}
	oldText, _ := readAll(f)
	if !strings.Contains(oldText, "gomaint_goroot_ok 1\n") {
		t.Error("the file an earlier reader opened was changed in place")
	}
}

func readAll(f *os.File) (string, error) {
	var b strings.Builder
	_, err := bufio.NewReader(f).WriteTo(&b)
	return b.String(), err
}

// Readers racing a writer see one complete file or the other, never a
// prefix; the textfile collector reads at arbitrary times.
func TestWriteAtomicUnderReaders(t *testing.T) {
	dir := t.TempDir()
	a, b := full(), full()
	b.GorootOK = false
	b.Targets = b.Targets[:1]
	texts := map[string]bool{format(t, a): true, format(t, b): true}
	if err := Write(dir, a); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Value
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got, err := os.ReadFile(filepath.Join(dir, FileName))
				if err != nil || !texts[string(got)] {
					bad.Store(fmt.Sprintf("read %d bytes, err %v", len(got), err))
					return
				}
			}
		}()
	}
	for i := range 100 {
		s := a
		if i%2 == 1 {
			s = b
		}
		if err := Write(dir, s); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if v := bad.Load(); v != nil {
		t.Errorf("a reader saw a partial file: %v", v)
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestWriteErrors(t *testing.T) {
	if err := Write("", full()); err == nil {
		t.Error("Write with no directory succeeded")
	}
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	err := Write(missing, full())
	if err == nil || !strings.Contains(err.Error(), filepath.Join(missing, FileName)) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: err = %v, want ErrNotExist naming %s", err, filepath.Join(missing, FileName))
	}

	// The rename fails (gomaint.prom is a non-empty directory): the error
	// names the file and the temporary file is gone.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, FileName, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = Write(dir, full())
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, FileName)) {
		t.Errorf("rename over a directory: err = %v", err)
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}

	// A snapshot Format rejects writes nothing.
	dir = t.TempDir()
	s := full()
	s.Targets = append(s.Targets, s.Targets[0])
	if err := Write(dir, s); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, FileName)) {
		t.Errorf("bad snapshot: err = %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("bad snapshot left %v", ents)
	}
}

func TestWriteSweepsStaleTemps(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "."+FileName+".111")
	fresh := filepath.Join(dir, "."+FileName+".222")
	other := filepath.Join(dir, "node.prom")
	for _, p := range []string{stale, fresh, other} {
		if err := os.WriteFile(p, []byte("x 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	for _, p := range []string{stale, other} {
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
	}
	if err := Write(dir, full()); err != nil {
		t.Fatal(err)
	}
	left := tempFiles(t, dir)
	if strings.Join(left, " ") != filepath.Base(fresh)+" node.prom" {
		t.Errorf("after Write: %v; want the fresh temp (maybe a concurrent writer's) and node.prom kept", left)
	}
}

// --- With the real promtool (Debian package prometheus). ---

func promtool(t *testing.T) string {
	t.Helper()
	return testenv.Command(t, "promtool")
}

func rulesDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs("../../packaging/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	t.Logf("%s %s:\n%s", filepath.Base(name), strings.Join(args, " "), out)
}

func TestPromtoolCheckMetrics(t *testing.T) {
	pt := promtool(t)
	s := full()
	s.Targets = append(s.Targets, Target{Name: "odd \"name\"\\\n", Kind: "build"})
	s.BuildFailures["odd \"reason\"\\\n"] = 1
	text := format(t, s)
	cmd := exec.Command(pt, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	// promtool prints lint problems and exits non-zero; silence is a pass.
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestPromtoolCheckRules(t *testing.T) {
	run(t, promtool(t), "check", "rules", filepath.Join(rulesDir(t), "gomaint.rules.yml"))
}

// The hand-written rule tests: each alert fires and does not fire.
func TestPromtoolTestRules(t *testing.T) {
	run(t, promtool(t), "test", "rules", filepath.Join(rulesDir(t), "gomaint.rules.test.yml"))
}

// Names the rules and the hand-written tests use must be ones Format emits,
// with the same label names, so the writer and the rules cannot drift.
func TestRulesUseFormatNames(t *testing.T) {
	_, _, ss := parse(t, format(t, full()))
	emitted := map[string]map[string]bool{} // name -> sorted label names
	for _, s := range ss {
		if emitted[s.name] == nil {
			emitted[s.name] = map[string]bool{}
		}
		emitted[s.name][labelNames(s.labels)] = true
	}

	rules, err := os.ReadFile(filepath.Join(rulesDir(t), "gomaint.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`\bgomaint_[a-z_]+`).FindAllString(string(rules), -1)
	if len(names) < 5 {
		t.Fatalf("only %d metric names in the rules file", len(names))
	}
	for _, n := range names {
		if emitted[n] == nil {
			t.Errorf("rules use %s, which Format never emits", n)
		}
	}

	tests, err := os.ReadFile(filepath.Join(rulesDir(t), "gomaint.rules.test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	seriesRE := regexp.MustCompile(`series: '([a-z_]+)\{(.*)\}'`)
	all := seriesRE.FindAllStringSubmatch(string(tests), -1)
	if len(all) < 10 {
		t.Fatalf("only %d input series in the rules test file", len(all))
	}
	for _, m := range all {
		_, _, got := parse(t, m[1]+"{"+m[2]+"} 0\n")
		ls := got[0].labels
		delete(ls, "instance") // added by the scrape
		delete(ls, "job")
		if !emitted[m[1]][labelNames(ls)] {
			t.Errorf("test series %s{%s}: Format emits no %s with labels %s", m[1], m[2], m[1], labelNames(ls))
		}
	}
}

func labelNames(ls map[string]string) string {
	var n []string
	for k := range ls {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ",")
}

// Format's own output for a healthy and a troubled host, fed to the real
// rules: every alert fires for the troubled host and none for the healthy
// one. promtool's clock starts at 0, so timestamps are seconds from there.
func TestRulesOnFormatOutput(t *testing.T) {
	pt := promtool(t)
	const evalAt = 150 * time.Minute
	at := func(d time.Duration) time.Time { return time.Unix(int64(d/time.Second), 0) }

	good := Snapshot{GorootOK: true, Targets: []Target{
		{Name: "build", Kind: "build", DiskBytes: 2 * gib, LimitBytes: 10 * gib, FSFreeBytes: 50 * gib, FSFreeInodes: 1e6, LastAudit: at(evalAt - 10*time.Minute)},
		{Name: "mod", Kind: "mod", DiskBytes: 3 * gib, FSFreeBytes: 50 * gib, FSFreeInodes: 1e6, LastAudit: at(evalAt - 10*time.Minute),
			LastVerifySuccess: at(evalAt - 24*time.Hour)},
	}}
	bad := Snapshot{GorootOK: false,
		Targets: []Target{
			// Over its limit, last audited at 0 (2h30m before evalAt).
			{Name: "build", Kind: "build", DiskBytes: 11 * gib, LimitBytes: 10 * gib, FSFreeBytes: 50 * gib, FSFreeInodes: 1e6, LastAudit: at(0)},
			// No limit, less free than its size, never audited.
			// Last verified 9 days before evalAt.
			{Name: "mod", Kind: "mod", DiskBytes: 3 * gib, FSFreeBytes: 1 * gib, FSFreeInodes: 1e6, LastVerifySuccess: at(evalAt - 9*24*time.Hour)},
		},
		Findings: []Finding{
			{Target: "build", Code: "LOW_DISK", Severity: "warning", Count: 1},
			{Target: "build", Code: "WORLD_WRITABLE", Severity: "error", Count: 1},
			{Code: "GOROOT_MISSING", Severity: "error", Count: 1},
			{Code: "GOROOT_MODIFIED", Severity: "error", Count: 1},
			{Target: "build", Code: "LIMIT_THRASHING", Severity: "warning", Count: 1},
		},
	}
	want := map[string]string{
		"GomaintCacheThrashing":            "build", // labels of count by (alertname, instance, target) (ALERTS)
		"GomaintLowDisk":                   "build",
		"GomaintFindingError":              "build",
		"GomaintCacheOverLimit":            "build",
		"GomaintAuditStale":                "build",
		"GomaintDiskSmallerThanCacheLimit": "mod",
		"GomaintNeverAudited":              "mod",
		"GomaintGorootNotOK":               "",
		"GomaintGorootModified":            "",
		"GomaintVerifyStale":               "mod",
	}

	// Every rule in the file must be covered here.
	rules, err := os.ReadFile(filepath.Join(rulesDir(t), "gomaint.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// Rules on rates and trends need series that change: the hand-written
	// gomaint.rules.test.yml exercises them.
	trends := map[string]bool{"GomaintCacheHitRatioCollapsed": true, "GomaintCacheFillsDiskWithinDay": true}
	for _, m := range regexp.MustCompile(`(?m)^\s*- alert: (\S+)`).FindAllStringSubmatch(string(rules), -1) {
		if _, ok := want[m[1]]; !ok && !trends[m[1]] {
			t.Errorf("alert %s is not exercised by this test", m[1])
		}
	}

	type inSeries struct {
		Series string `json:"series"`
		Values string `json:"values"`
	}
	var input []inSeries
	samples := int(evalAt/time.Minute) + 10
	for inst, s := range map[string]Snapshot{"good:9100": good, "bad:9100": bad} {
		for _, l := range strings.Split(strings.TrimSuffix(format(t, s), "\n"), "\n") {
			if strings.HasPrefix(l, "#") {
				continue
			}
			i := strings.LastIndexByte(l, ' ')
			name, value := l[:i], l[i+1:]
			extra := `instance="` + inst + `",job="node"`
			if strings.HasSuffix(name, "}") {
				name = strings.TrimSuffix(name, "}") + "," + extra + "}"
			} else {
				name += "{" + extra + "}"
			}
			input = append(input, inSeries{name, fmt.Sprintf("%sx%d", value, samples)})
		}
	}
	type sample struct {
		Labels string  `json:"labels"`
		Value  float64 `json:"value"`
	}
	var exp []sample
	for name, target := range want {
		l := fmt.Sprintf(`{alertname=%q,instance="bad:9100"`, name)
		if target != "" {
			l += fmt.Sprintf(`,target=%q`, target)
		}
		exp = append(exp, sample{l + "}", 1})
	}
	// JSON is YAML, and needs no YAML library.
	doc := map[string]any{
		"rule_files":          []string{filepath.Join(rulesDir(t), "gomaint.rules.yml")},
		"evaluation_interval": "1m",
		"tests": []any{map[string]any{
			"interval":     "1m",
			"input_series": input,
			"promql_expr_test": []any{map[string]any{
				"expr":        `count by (alertname, instance, target) (ALERTS{alertstate="firing"})`,
				"eval_time":   fmt.Sprintf("%dm", int(evalAt/time.Minute)),
				"exp_samples": exp,
			}},
		}},
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "generated.test.yml")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, pt, "test", "rules", p)
}

// TestFormatAlerts: the alert metrics appear with the routes' counts and
// the spool, and not at all without routes.
func TestFormatAlerts(t *testing.T) {
	s := full()
	_, _, ss := parse(t, format(t, s))
	if m := find(ss, "gomaint_alert_spool_files", nil); len(m) != 0 {
		t.Errorf("spool metric without alert routes: %v", m)
	}
	s.Alerts = &Alerts{Sent: map[string]map[string]int64{"pager": {"delivered": 3, "failed": 1, "dropped": 0}}, SpoolFiles: 2}
	_, _, ss = parse(t, format(t, s))
	if m := find(ss, "gomaint_alert_spool_files", nil); len(m) != 1 || m[0].value != "2" {
		t.Errorf("gomaint_alert_spool_files = %v, want 2", m)
	}
	for outcome, want := range map[string]string{"delivered": "3", "failed": "1", "dropped": "0"} {
		m := find(ss, "gomaint_alerts_sent_total", map[string]string{"route": "pager", "outcome": outcome})
		if len(m) != 1 || m[0].value != want {
			t.Errorf("gomaint_alerts_sent_total{route=pager,outcome=%s} = %v, want %s", outcome, m, want)
		}
	}
}

// TestCacheCounts (issue 16): the counters of a counted build cache, with
// the labels the issue names, and none for a cache that is not counted.
func TestCacheCounts(t *testing.T) {
	_, typ, ss := parse(t, format(t, full()))
	for name, want := range map[string]string{"gomaint_cache_hits_total": "900", "gomaint_cache_misses_total": "100",
		"gomaint_cache_written_bytes_total": "5242880", "gomaint_cache_evicted_bytes_total": "4194304",
		"gomaint_cache_oldest_entry_age_seconds": "86400", "gomaint_cache_counts_partial": "0"} {
		got := find(ss, name, map[string]string{"target": "build", "kind": "build"})
		if len(got) != 1 || got[0].value != want {
			t.Errorf("%s{target=build,kind=build}: %+v, want %s", name, got, want)
		}
		if strings.HasSuffix(name, "_total") && typ[name] != 1 {
			t.Errorf("%s has no TYPE line", name)
		}
	}
	if got := find(ss, "gomaint_cache_hits_total", map[string]string{"target": "mod"}); len(got) != 0 {
		t.Errorf("a cache that is not counted has hits: %+v", got)
	}
}
