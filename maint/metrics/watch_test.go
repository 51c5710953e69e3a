package metrics

import "testing"

// TestFormatWatchUp: gomaint_watch_up is 1 for a watching build cache, 0
// for one absent or degraded, and absent for a cache nobody watches.
func TestFormatWatchUp(t *testing.T) {
	s := full()
	s.Targets[1].Watch = "watching"
	s.Targets = append(s.Targets,
		Target{Name: "ci", Kind: "build", Watch: "degraded"},
		Target{Name: "late", Kind: "build", Watch: "absent"})
	_, _, ss := parse(t, format(t, s))
	for target, want := range map[string]string{"build": "1", "ci": "0", "late": "0"} {
		m := find(ss, "gomaint_watch_up", map[string]string{"target": target, "kind": "build"})
		if len(m) != 1 || m[0].value != want {
			t.Errorf("gomaint_watch_up{target=%q} = %v, want %s", target, m, want)
		}
	}
	if m := find(ss, "gomaint_watch_up", map[string]string{"target": "mod"}); len(m) != 0 {
		t.Errorf("a cache the daemon does not watch has gomaint_watch_up: %v", m)
	}
}
