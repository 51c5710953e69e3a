package watch

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// inotifyFDs counts this process's inotify instances.
func inotifyFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if l, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); l == "anon_inode:inotify" {
			n++
		}
	}
	return n
}

// children lists this process's children named comm.
func children(t *testing.T, comm string) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < 0 || s[open+1:close] != comm {
			continue
		}
		f := strings.Fields(s[close+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) {
			pid, _ := strconv.Atoi(strings.Fields(s)[0])
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestHandoff: the watches' instances leave this process, to a true(1)
// child that frees them as it exits.
func TestHandoff(t *testing.T) {
	before := inotifyFDs(t)
	w, done := open(t, cache(t, allShards()...), Options{NoShardFDs: true}, true)
	m := openModules(t, modCache(t, t.TempDir(), "example.com/a@v1.0.0"), true)
	if n := inotifyFDs(t); n != before+2 {
		t.Fatalf("%d inotify instances open, want %d", n, before+2)
	}
	w.Drain()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m.Stop()
	var h Handoff
	h.Add(w)
	h.AddModules(m)
	h.Close()
	if n := inotifyFDs(t); n != before {
		t.Errorf("%d inotify instances open after the handoff, want %d", n, before)
	}
	kids := children(t, "true")
	if len(kids) != 1 {
		t.Fatalf("children named true: %v; want the one the instances went to", kids)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(kids[0], &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
		t.Errorf("the child: %v, %v", err, ws)
	}
}
