package audit

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestEventBytesNamed: the journal says which bytes, as the JSON does
// (issue 20, "Words"): an AUDIT event's GOMAINT_APPARENT_BYTES and
// GOMAINT_DISK_BYTES are the cache's two figures, OVER_LIMIT's figure is
// GOMAINT_DISK_BYTES, and no field says bytes without saying which.
func TestEventBytesNamed(t *testing.T) {
	dir := testenv.RealCaches(t)
	tg := tgt("build", config.Build, filepath.Join(dir, "gocache"))
	tg.MaxSize = 1 << 20
	r, sink := run(t, config.User, nil, tg)
	f, c := must(t, r, "OVER_LIMIT"), r.Caches[0]
	if c.ApparentBytes == c.DiskBytes {
		t.Fatalf("apparent %d = disk %d: a real cache tells them apart, so this proves nothing", c.ApparentBytes, c.DiskBytes)
	}
	named := map[string]bool{"GOMAINT_APPARENT_BYTES": true, "GOMAINT_DISK_BYTES": true, "GOMAINT_FREE_BYTES": true, "GOMAINT_LIMIT_BYTES": true}
	want := map[string]map[string]int64{ // by event, or by finding code
		journal.Audit.Event: {"GOMAINT_APPARENT_BYTES": c.ApparentBytes, "GOMAINT_DISK_BYTES": c.DiskBytes},
		"OVER_LIMIT":        {"GOMAINT_DISK_BYTES": f.DiskBytes},
	}
	for _, e := range sink.Snapshot() {
		what := e.Type.Event
		if code := e.Fields["GOMAINT_FINDING"]; code != "" {
			what = code
		}
		for k := range e.Fields {
			if strings.Contains(k, "BYTES") && !named[k] {
				t.Errorf("%s event: field %s", what, k)
			}
		}
		for k, v := range want[what] {
			if got, _ := strconv.ParseInt(e.Fields[k], 10, 64); got != v {
				t.Errorf("%s event: %s=%q, want %d", what, k, e.Fields[k], v)
			}
		}
		delete(want, what)
	}
	if len(want) != 0 {
		t.Errorf("no event of %v", want)
	}
}
