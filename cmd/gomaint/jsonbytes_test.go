package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// byteKeys are the JSON keys that may hold a byte count without saying
// disk_bytes (st_blocks*512) or apparent_bytes (st_size): each is a figure
// of a file system or of a limit, never of the files of a cache.
var byteKeys = map[string]bool{
	"free_bytes": true, "total_bytes": true, "fs_free_bytes": true, "free_bytes_before": true, "min_free_bytes": true,
	"limit_bytes": true, "freed_bytes": true, "trim_freed_bytes_total": true,
	// What the daemon itself wrote to its files and sent the journal
	// (status io, for gomaint-bench -daemon): no cache's files.
	"written_bytes": true, "journal_sent_bytes": true,
}

// byteKeysOf walks a decoded JSON document and returns every key that
// speaks of bytes, with its JSON path.
func byteKeysOf(v any, path string, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.Contains(k, "bytes") {
				out[path+"."+k] = k
			}
			byteKeysOf(e, path+"."+k, out)
		}
	case []any:
		for i, e := range x {
			byteKeysOf(e, fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}

// TestJSONBytesNamed: no --json output (audit, clean, fix, status) of a
// real cache says "bytes" without saying which: a size of files is
// disk_bytes or apparent_bytes, the same words everywhere, and an audit's
// disk_bytes is what du(1) counts while apparent_bytes is the st_size of
// the files (issue 20, "Words").
func TestJSONBytesNamed(t *testing.T) {
	dir := testenv.RealCaches(t)
	cache, mod := filepath.Join(dir, "gocache"), filepath.Join(dir, "gomodcache")
	old := time.Now().Add(-48 * time.Hour)
	filepath.Walk(cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, "-a") {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	// max_size 1000: an OVER_LIMIT finding, with its figure.
	cfg := writeConfig(t, fmt.Sprintf("[daemon]\naudit_schedule = \"\"\n[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\nmax_size = 1000\n\n[[target]]\nname = \"mod\"\nkind = \"mod\"\npath = %q\n",
		cache, mod))
	n := newNotifySocket(t)
	env := serveEnv(t, n)
	seen := map[string]bool{}
	run := func(args ...string) []any {
		t.Helper()
		r := gomaint(t, env, append(args, "--config", cfg, "--log", "none")...)
		if r.code != 0 && r.code != 1 {
			t.Fatalf("%v: exit %d: %s%s", args, r.code, r.stdout, r.stderr)
		}
		var docs []any
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		for dec.More() {
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, r.stdout)
			}
			docs = append(docs, v)
			keys := map[string]string{}
			byteKeysOf(v, "", keys)
			for p, k := range keys {
				seen[k] = true
				if !byteKeys[k] && !strings.Contains(k, "disk_bytes") && !strings.Contains(k, "apparent_bytes") {
					t.Errorf("%v: %s says bytes without disk_ or apparent_", args, p)
				}
			}
		}
		if len(docs) == 0 {
			t.Fatalf("%v: no JSON output", args)
		}
		return docs
	}

	audit := run("audit", "--json")[0].(map[string]any)
	for _, c := range audit["caches"].([]any) {
		c := c.(map[string]any)
		path := c["path"].(string)
		du := func(args ...string) int64 {
			out := testenv.Run(t, nil, "", "du", append(args, "-sB1", path)...)
			n, err := strconv.ParseInt(strings.Fields(out)[0], 10, 64)
			if err != nil {
				t.Fatalf("du %v: %q", args, out)
			}
			return n
		}
		var files int64
		for _, s := range strings.Fields(testenv.Run(t, nil, "", "find", path, "-type", "f", "-printf", `%s\n`)) {
			n, _ := strconv.ParseInt(s, 10, 64)
			files += n
		}
		disk, apparent := number(t, c, "disk_bytes"), number(t, c, "apparent_bytes")
		if disk != du() || apparent != files {
			t.Errorf("%s: disk_bytes %d, apparent_bytes %d; du -sB1 %d, st_size of the files %d", path, disk, apparent, du(), files)
		}
		if disk == du("--apparent-size") || apparent == du() {
			t.Errorf("%s: disk_bytes %d, apparent_bytes %d, du %d, du --apparent-size %d: a real cache tells them apart, so this proves nothing",
				path, disk, apparent, du(), du("--apparent-size"))
		}
	}
	var over map[string]any
	for _, f := range audit["findings"].([]any) {
		if f := f.(map[string]any); f["code"] == "OVER_LIMIT" {
			over = f
		}
	}
	if over == nil || over["disk_bytes"] == nil {
		t.Errorf("no OVER_LIMIT finding with disk_bytes: %v", audit["findings"])
	}

	removals := run("clean", "--dry-run", "--json", "--max-age", "1d")
	if len(removals) < 2 || removals[0].(map[string]any)["disk_bytes"] == nil {
		t.Errorf("dry run: no removal with disk_bytes: %v", removals)
	}
	run("fix", "--system", "--dry-run", "--json")
	run("clean", "--json", "--max-age", "1d")
	d := startServe(t, env, "--config", cfg)
	n.until(t, "READY=1", 10*time.Second)
	n.until(t, "last audit", 10*time.Second)
	run("status", "--json")
	_ = d
	for _, k := range []string{"disk_bytes", "apparent_bytes", "disk_bytes_before", "disk_bytes_after", "freed_bytes"} {
		if !seen[k] {
			t.Errorf("no output has %q: the test proves less than it says", k)
		}
	}
}

// number is the number under key k of a decoded JSON object.
func number(t *testing.T, o map[string]any, k string) int64 {
	t.Helper()
	n, ok := o[k].(float64)
	if !ok {
		t.Fatalf("%q is %v, not a number, in %v", k, o[k], o)
	}
	return int64(n)
}
