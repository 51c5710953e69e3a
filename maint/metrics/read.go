package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Read reads back dir/gomaint.prom as Write wrote it, so that a run that
// measures only part of what the file reports (a clean, an audit of one
// target) keeps the rest, and counters keep counting across runs. Families
// it does not know are ignored. A missing file is an empty snapshot and
// an error wrapping fs.ErrNotExist.
func Read(dir string) (Snapshot, error) {
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return Snapshot{}, fmt.Errorf("metrics: %w", err)
	}
	s, err := parseText(bytes.NewReader(data))
	if err != nil {
		return Snapshot{}, fmt.Errorf("metrics: %s: %w", filepath.Join(dir, FileName), err)
	}
	return s, nil
}

func parseText(r io.Reader) (Snapshot, error) {
	var s Snapshot
	targets := map[string]*Target{}
	var order []string
	get := func(name, kind string) *Target {
		t := targets[name]
		if t == nil {
			t = &Target{Name: name, Kind: kind}
			targets[name] = t
			order = append(order, name)
		}
		return t
	}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, value, err := sampleOf(line)
		if err != nil {
			return Snapshot{}, fmt.Errorf("line %d: %w", n, err)
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return Snapshot{}, fmt.Errorf("line %d: value %q: %w", n, value, err)
		}
		if name == "gomaint_goroot_ok" {
			s.GorootOK = f == 1
			continue
		}
		if name == "gomaint_findings" {
			if f > 0 {
				s.Findings = append(s.Findings, Finding{Target: labels["target"], Code: labels["code"], Severity: labels["severity"], Count: int(f)})
			}
			continue
		}
		if name == buildFailures {
			if s.BuildFailures == nil {
				s.BuildFailures = map[string]int64{}
			}
			s.BuildFailures[labels["reason"]] = int64(f)
			continue
		}
		if labels["target"] == "" {
			continue
		}
		t, v := get(labels["target"], labels["kind"]), int64(f)
		switch name {
		case "gomaint_cache_disk_bytes", "gomaint_cache_bytes": // the old name (README, "Changes"), in a file an older gomaint wrote
			t.DiskBytes = v
		case "gomaint_cache_files":
			t.Files = v
		case "gomaint_cache_limit_bytes":
			t.LimitBytes = v
		case "gomaint_fs_free_bytes":
			t.FSFreeBytes = v
		case "gomaint_fs_free_inodes":
			t.FSFreeInodes = v
		case "gomaint_trim_freed_bytes_total":
			t.TrimFreedBytesTotal = v
		case "gomaint_last_audit_timestamp_seconds":
			t.LastAudit = fromSeconds(f)
		case "gomaint_last_clean_success_timestamp_seconds":
			t.LastCleanSuccess = fromSeconds(f)
		case "gomaint_verify_modules_total":
			if t.VerifyModules == nil {
				t.VerifyModules = map[string]int64{}
			}
			t.VerifyModules[labels["result"]] = v
		case "gomaint_verify_last_success_timestamp_seconds":
			t.LastVerifySuccess = fromSeconds(f)
		case "gomaint_cache_hits_total", "gomaint_cache_misses_total", "gomaint_cache_written_bytes_total", "gomaint_cache_counts_partial":
			if t.Counts == nil {
				t.Counts = &Counts{}
			}
			switch name {
			case "gomaint_cache_hits_total":
				t.Counts.Hits = v
			case "gomaint_cache_misses_total":
				t.Counts.Misses = v
			case "gomaint_cache_written_bytes_total":
				t.Counts.WrittenBytes = v
			default:
				t.Counts.Partial = v == 1
			}
		case "gomaint_cache_evicted_bytes_total":
			t.EvictedBytesTotal = v
		}
	}
	if err := sc.Err(); err != nil {
		return Snapshot{}, err
	}
	for _, name := range order {
		s.Targets = append(s.Targets, *targets[name])
	}
	return s, nil
}

func fromSeconds(f float64) time.Time { return time.UnixMilli(int64(f*1e3 + 0.5)) }

// sampleOf splits `name{a="x",b="y"} value` with labels unescaped.
func sampleOf(line string) (name string, labels map[string]string, value string, err error) {
	labels = map[string]string{}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return "", nil, "", errors.New("no value")
	}
	name, rest := line[:i], line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for rest != "" && rest[0] != '}' {
			key, after, ok := strings.Cut(rest, `="`)
			if !ok {
				return "", nil, "", fmt.Errorf("bad label in %q", line)
			}
			var val strings.Builder
			j := 0
			for ; j < len(after) && after[j] != '"'; j++ {
				if after[j] == '\\' && j+1 < len(after) {
					j++
					if after[j] == 'n' {
						val.WriteByte('\n')
						continue
					}
				}
				val.WriteByte(after[j])
			}
			if j == len(after) {
				return "", nil, "", fmt.Errorf("unterminated label in %q", line)
			}
			labels[strings.TrimLeft(key, ",")] = val.String()
			rest = strings.TrimPrefix(after[j+1:], ",")
		}
		rest = strings.TrimPrefix(rest, "}")
	}
	return name, labels, strings.TrimSpace(rest), nil
}
