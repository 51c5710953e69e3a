package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomaint/gomaint/maint/buildfail"
	"github.com/gomaint/gomaint/maint/lock"
	"github.com/gomaint/gomaint/maint/safefs"
)

// gomaint run counts its failed builds in gomaint.prom: no daemon keeps
// that count, so the file is where it lives between runs, and every
// writer of the file carries it over (Write).

const buildFailures = "gomaint_build_failures_total"

// LockName names the metrics file's lock among the caches' locks
// (lock.AcquireFile).
const LockName = "metrics"

// Lock takes the metrics file's lock in lockDir, waiting up to lock.Wait:
// every writer of gomaint.prom holds it from reading the file to writing
// it, or a counter could go back.
func Lock(lockDir string) (release func(), err error) {
	return lock.AcquireFile(lockDir, LockName, lock.Wait)
}

// BuildFailed adds one to gomaint_build_failures_total in dir/gomaint.prom
// for each of reasons (buildfail.Reasons of one command), under the
// metrics lock in lockDir. Every other line of the file stays as it is:
// the rest is the daemon's or the last audit's to say.
func BuildFailed(lockDir, dir string, reasons []string) error {
	for _, r := range reasons {
		if !slices.Contains(buildfail.All(), r) {
			return fmt.Errorf("metrics: build failure reason %q is none of %s", r, strings.Join(buildfail.All(), ", "))
		}
	}
	if len(reasons) == 0 {
		return nil
	}
	if dir == "" {
		return fmt.Errorf("metrics: write %s: no directory given", FileName)
	}
	release, err := Lock(lockDir)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer release()
	final := filepath.Join(dir, FileName)
	data, err := os.ReadFile(final)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("metrics: %w", err)
	}
	prev, err := parseText(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("metrics: %s: %w; the next audit writes it afresh", final, err)
	}
	counts := AddCounts(prev.BuildFailures, nil)
	for _, r := range reasons {
		counts[r]++
	}
	if _, err := safefs.WriteChanged(dir, safefs.File{Name: FileName, Data: splice(data, buildFailureFamily(counts)), Perm: 0o644, Gid: -1}); err != nil {
		return fmt.Errorf("metrics: write %s: %w", final, err)
	}
	return nil
}

// buildFailureFamily has a sample for every reason (0 for those never
// seen, so that rate() works from the first failure on) and for any other
// the file held, from a newer gomaint.
func buildFailureFamily(counts map[string]int64) *family {
	f := &family{name: buildFailures, typ: "counter",
		help: "Builds run by gomaint run that failed, by reason: cache_permission, disk_full, goroot, module_download, module_checksum, cache_vanished, or other (none of these); one build counts once for each reason it showed."}
	for _, r := range buildfail.All() {
		if _, ok := counts[r]; !ok {
			f.samples = append(f.samples, sample{[]label{{"reason", r}}, "0"})
		}
	}
	for r, n := range counts {
		f.samples = append(f.samples, sample{[]label{{"reason", r}}, itoa(n)})
	}
	return f
}

// splice replaces the build failure family in a file Format wrote (or
// adds it where Format puts it, by name), keeping every other line.
func splice(file []byte, f *family) []byte {
	block := render(map[string]*family{f.name: f})
	var out bytes.Buffer
	placed := false
	for _, line := range bytes.SplitAfter(file, []byte("\n")) {
		if len(line) == 0 || familyOf(line) == f.name {
			continue
		}
		if !placed && bytes.HasPrefix(line, []byte("# HELP ")) && familyOf(line) > f.name {
			out.Write(block)
			placed = true
		}
		out.Write(line)
	}
	if !placed {
		out.Write(block)
	}
	return out.Bytes()
}

// familyOf is the metric a line of the exposition is about.
func familyOf(line []byte) string {
	s := string(line)
	if rest, ok := strings.CutPrefix(s, "# HELP "); ok {
		s = rest
	} else if rest, ok := strings.CutPrefix(s, "# TYPE "); ok {
		s = rest
	}
	if i := strings.IndexAny(s, "{ \n"); i >= 0 {
		s = s[:i]
	}
	return s
}

// carryBuildFailures is the counter Write writes to path: per reason, the
// higher of what the file says and what the caller says.
func carryBuildFailures(path string, counts map[string]int64) map[string]int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return counts
	}
	prev, err := parseText(bytes.NewReader(data))
	if err != nil || prev.BuildFailures == nil {
		return counts
	}
	out := AddCounts(counts, nil)
	for r, n := range prev.BuildFailures {
		out[r] = max(out[r], n)
	}
	return out
}
