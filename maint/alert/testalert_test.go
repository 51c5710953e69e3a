package alert

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/journal"
)

// TestTestAlert: `gomaint alert test` reaches every route, whatever its
// codes and min_severity, not through the spool, and says per route what
// happened; --name picks one route.
func TestTestAlert(t *testing.T) {
	rc := newReceiver(t)
	web := sendRoute("chat", "slack", rc.URL+"/T000/SECRET-TOKEN")
	web.MinSeverity, web.Codes = finding.Error, []string{"ALERT_TEST_OTHER"}
	failing := hook(t, "echo 'pager says no' >&2; exit 2")
	routes := []Route{web, failing}
	mem := &journal.Memory{}
	results, err := TestAlert(t.Context(), routes, "", "9.9", mem)
	if err != nil || len(results) != 2 {
		t.Fatalf("%+v, %v", results, err)
	}
	if r := results[0]; r.Route != "chat" || r.Attempt.Outcome != Delivered || r.Attempt.HTTPStatus != 200 || r.Receiver != web.Redacted() {
		t.Errorf("chat: %+v", r)
	}
	if r := results[1]; r.Route != "pager" || r.Attempt.Outcome != Failed || r.Attempt.ExitStatus != 2 || !strings.Contains(r.Attempt.Err.Error(), "pager says no") {
		t.Errorf("pager: %+v", r)
	}
	var m slackPayload
	if err := json.Unmarshal(rc.got()[0].Body, &m); err != nil || !strings.HasPrefix(m.Blocks[0].Text.Text, "TEST: ALERT_TEST") {
		t.Errorf("slack got %s", rc.got()[0].Body)
	}
	if len(events(mem, journal.AlertDelivered)) != 1 || len(events(mem, journal.AlertFailed)) != 1 {
		t.Errorf("events %+v", mem.Snapshot())
	}
	noSecret(t, mem, "SECRET-TOKEN")

	if results, err := TestAlert(t.Context(), routes, "pager", "9.9", nil); err != nil || len(results) != 1 || results[0].Route != "pager" {
		t.Errorf("--name pager: %+v, %v", results, err)
	}
	if _, err := TestAlert(t.Context(), routes, "nope", "9.9", nil); err == nil || !strings.Contains(err.Error(), `"nope"; the configured ones: chat, pager`) {
		t.Errorf("an unknown name: %v", err)
	}
}
