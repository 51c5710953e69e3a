package daemon

import (
	"strings"
	"testing"
)

// TestStatusNoteEscapes: a STATUS= line is one sd_notify assignment, even
// when a cache's name or an error carries a newline.
func TestStatusNoteEscapes(t *testing.T) {
	got := statusNote("build /srv/x\nREADY=1\nMAINPID=1")
	if strings.Contains(got, "\n") || !strings.HasPrefix(got, "STATUS=build /srv/x") {
		t.Errorf("statusNote = %q", got)
	}
}
