package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestJSONListsNeverNull: on a healthy cache every list of every --json
// output is [] when empty, never null (issue 12.5), so that `jq '.findings
// | length'` and typed decoders work without a special case.
func TestJSONListsNeverNull(t *testing.T) {
	dir := testenv.RealCaches(t)
	cfg := writeConfig(t, fmt.Sprintf("[daemon]\naudit_schedule = \"\"\n[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\nmax_size = \"1GiB\"\n\n[[target]]\nname = \"mod\"\nkind = \"mod\"\npath = %q\n",
		filepath.Join(dir, "gocache"), filepath.Join(dir, "gomodcache")))
	n := newNotifySocket(t)
	env := serveEnv(t, n)
	check := func(args []string, allowNull ...string) {
		t.Helper()
		r := gomaint(t, env, append(args, "--config", cfg, "--log", "none")...)
		if r.code != 0 && r.code != exitNotRunning {
			t.Fatalf("%v: exit %d: %s%s", args, r.code, r.stdout, r.stderr)
		}
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		docs := 0
		for dec.More() {
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, r.stdout)
			}
			docs++
			for _, p := range nulls(v, "") {
				if !contains(allowNull, p) {
					t.Errorf("%v: %s is null; an empty list must be []", args, p)
				}
			}
		}
		if docs == 0 {
			t.Errorf("%v: no JSON output", args)
		}
	}
	check([]string{"audit", "--json"})
	if r := gomaint(t, env, "audit", "--json", "--config", cfg, "--log", "none"); !strings.Contains(r.stdout, `"findings": []`) {
		t.Errorf("the cache is not healthy, so the test proves nothing: %s", r.stdout)
	}
	check([]string{"clean", "--dry-run", "--json"})
	check([]string{"clean", "--json"})
	check([]string{"fix", "--system", "--dry-run", "--json"}) // root's own caches: --system (issue 13.13)
	check([]string{"fix", "--system", "--json"})
	check([]string{"check", "goroot", "--json"})
	check([]string{"status", "--json"}, ".status") // no daemon: no status at all, an object
	d := startServe(t, env, "--config", cfg)
	n.until(t, "READY=1", 10*time.Second)
	n.until(t, "last audit", 10*time.Second) // the audit after start
	check([]string{"status", "--json"})
	_ = d
}

// nulls lists the JSON paths of v that are null.
func nulls(v any, path string) []string {
	var out []string
	switch x := v.(type) {
	case nil:
		return []string{path}
	case map[string]any:
		for k, e := range x {
			out = append(out, nulls(e, path+"."+k)...)
		}
	case []any:
		for i, e := range x {
			out = append(out, nulls(e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
