package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestStatsCLI (issue 16): without a daemon, gomaint stats measures the
// sizes and says live counts need gomaint serve; with one, a real build
// shows as hits, and --zero starts them again.
func TestStatsCLI(t *testing.T) {
	dir := testenv.RealCaches(t)
	cache := filepath.Join(dir, "gocache")
	f := writeConfig(t, fmt.Sprintf("[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\nmax_size = \"1GiB\"\n", cache))
	n := newNotifySocket(t)
	env := serveEnv(t, n)

	r := gomaint(t, env, "stats", "--config", f)
	if r.code != 0 || !strings.Contains(r.stdout, "live counts need gomaint serve") || !strings.Contains(r.stdout, cache) {
		t.Fatalf("without a daemon: %+v", r)
	}
	if r := gomaint(t, env, "stats", "--config", f, "--zero"); r.code != exitNotRunning {
		t.Errorf("--zero without a daemon: %+v", r)
	}

	startServe(t, env, "--config", f)
	n.until(t, "READY=1", 10*time.Second)
	src := testenv.Module(t, dir)
	goEnv := testenv.GoEnv(dir)
	stats := func() (hits, misses int64) {
		r := gomaint(t, env, "stats", "--config", f, "--json", "--target", "build")
		var out struct {
			Running bool
			Targets []struct {
				Stats struct {
					Counted bool
					Total   struct{ Hits, Misses int64 }
				}
			}
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || !out.Running || len(out.Targets) != 1 || !out.Targets[0].Stats.Counted {
			t.Fatalf("gomaint stats --json: %+v", r)
		}
		return out.Targets[0].Stats.Total.Hits, out.Targets[0].Stats.Total.Misses
	}
	n.until(t, "last audit", 30*time.Second) // watched, first audit done
	testenv.Run(t, goEnv, src, "go", "build", "-o", os.DevNull, ".")
	deadline := time.Now().Add(10 * time.Second)
	for hits, _ := stats(); hits == 0; hits, _ = stats() {
		if time.Now().After(deadline) {
			t.Fatal("a build in a filled cache counted no hits")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := gomaint(t, env, "stats", "--config", f); r.code != 0 || !strings.Contains(r.stdout, "hit ratio") {
		t.Errorf("gomaint stats: %+v", r)
	}
	if r := gomaint(t, env, "stats", "--config", f, "--zero"); r.code != 0 {
		t.Fatalf("--zero: %+v", r)
	}
	if hits, misses := stats(); hits != 0 || misses != 0 {
		t.Errorf("after --zero: %d hits, %d misses", hits, misses)
	}
}
