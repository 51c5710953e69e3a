package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/config"
)

// request is where and what a webhook route posts for a, at time now:
// gomaint's JSON as it is, Slack's Block Kit, or Alertmanager's alert list
// (posted under the base URL).
func request(r *Route, a *Alert, now time.Time) (target string, body []byte, err error) {
	var v any
	target = r.URL
	switch r.Format {
	case config.FormatJSON, "":
		v = a
	case config.FormatSlack:
		v = slackMessage(a)
	case config.FormatAlertmanager:
		v = alertmanagerAlerts(a, r.Repeat, now)
		target = strings.TrimRight(strings.TrimSpace(r.URL), "/") + "/api/v2/alerts"
	default:
		return "", nil, fmt.Errorf("route %s: unknown format %q", r.Name, r.Format)
	}
	body, err = json.Marshal(v)
	return target, body, err
}

// headline is an alert in one line: what the Slack header, the fallback
// text and Alertmanager's summary say first.
func headline(a *Alert) string {
	var s string
	switch a.Status {
	case Resolved:
		s = "RESOLVED: " + a.Severity + " " + a.Code
	case Test:
		s = "TEST: " + a.Code
	default:
		s = strings.ToUpper(a.Severity) + " " + a.Code
	}
	if a.Target != "" {
		s += " on " + a.Target
	}
	return s
}

// String is the user as alerts show it: "1000 (alice)", or the number.
func (a Account) String() string {
	if a.Name == "" {
		return fmt.Sprint(a.ID)
	}
	return fmt.Sprintf("%d (%s)", a.ID, a.Name)
}
