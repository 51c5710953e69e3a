package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/daemon"
)

// TestPrintStatusWatch: gomaint status says when a build cache is not
// watched, or watched only in part, instead of "live".
func TestPrintStatusWatch(t *testing.T) {
	for state, want := range map[string]string{
		"watching": "(live)",
		"degraded": "(watch degraded, enforced by rescans: inotify_add_watch: no space left on device)",
		"absent":   "(not watched: open /c: no such file or directory)",
	} {
		detail := map[string]string{"degraded": "inotify_add_watch: no space left on device", "absent": "open /c: no such file or directory"}[state]
		st := &daemon.Status{Targets: []daemon.TargetStatus{{Name: "build", Path: "/c", Watched: state != "absent", Watch: state, WatchDetail: detail}}}
		var b bytes.Buffer
		printStatus(&b, st, true)
		if !strings.Contains(b.String(), want) {
			t.Errorf("watch %s: status says\n%s\nwant %q", state, b.String(), want)
		}
	}
}
