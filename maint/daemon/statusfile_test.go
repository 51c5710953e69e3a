package daemon

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestStatusFileAudience: the saved status has the socket's audience: a
// user in no target's group cannot read it, a member of one target's group
// reads that target's figures only.
func TestStatusFileAudience(t *testing.T) {
	d, a := twoGroupDaemon(t)
	out := testenv.NewAccount(t, "gmt-sd-out")
	self := testenv.Self(t)
	dir := d.stateDir
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(dir + "/" + stateFile); err == nil {
			break
		} else if time.Since(start) > 10*time.Second {
			t.Fatalf("no saved status: %v", err)
		}
	}
	if got := client(t, out, self, dir, "load"); !strings.HasPrefix(got[0], "error:") {
		t.Errorf("a user in no target's group read the saved status: %q", got)
	}
	got := client(t, a, self, dir, "load")
	var st Status
	if err := json.Unmarshal([]byte(got[0]), &st); err != nil {
		t.Fatalf("a member of alpha's group: %q", got)
	}
	if len(st.Targets) != 1 || st.Targets[0].Name != "alpha" {
		t.Errorf("saved status as a member of alpha's group shows %+v; want alpha only", st.Targets)
	}
}
