package alert

import (
	"time"
)

// Alertmanager's alert names: every finding is a GomaintFinding, its code a
// label, so that one route and one template in Alertmanager take every
// code gomaint has and will have (route on code= to tell them apart);
// `gomaint alert test` sends a GomaintAlertTest, which no route for
// findings matches by accident.
const (
	amFinding = "GomaintFinding"
	amTest    = "GomaintAlertTest"
	// amTestFor is how long a test alert stays active: long enough to see
	// it in Alertmanager's UI, and it goes away by itself.
	amTestFor = 5 * time.Minute
)

// amAlert is one alert of Alertmanager's API v2 (POST /api/v2/alerts).
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

// alertmanagerAlerts is a as Alertmanager's alert list. Alertmanager knows
// an alert by its labels: alertname, code, target, severity, instance (the
// host) and path, so that two findings of one code in one cache (two
// entries of another owner) stay two alerts and the resolution of one
// does not end the other. Everything else is an annotation. Labels and
// annotations without a value are left out, as Prometheus does.
func alertmanagerAlerts(a *Alert, repeat time.Duration, now time.Time) []amAlert {
	name := amFinding
	if a.Status == Test {
		name = amTest
	}
	labels := map[string]string{"alertname": name, "code": a.Code, "target": a.Target, "severity": a.Severity,
		"instance": a.Host, "path": a.Path}
	notes := map[string]string{"summary": headline(a), "message": a.Message, "fix": a.Fix, "path": a.Path,
		"configured_path": a.ConfiguredPath, "alert_id": a.ID, "machine_id": a.MachineID, "version": a.Version,
		"status": a.Status}
	if a.UID != nil {
		notes["uid"] = a.UID.String()
	}
	if a.Mode != nil {
		notes["mode"], notes["acl"] = a.Mode.Line(), a.Mode.ACL
	}
	for _, m := range []map[string]string{labels, notes} {
		for k, v := range m {
			if v == "" {
				delete(m, k)
			}
		}
	}
	al := amAlert{Labels: labels, Annotations: notes, StartsAt: a.StartsAt}
	if al.StartsAt.IsZero() {
		al.StartsAt = a.Time
	}
	switch {
	case a.Status == Resolved && a.EndsAt != nil:
		al.EndsAt = *a.EndsAt
	case a.Status == Test:
		al.EndsAt = now.Add(amTestFor)
	default:
		// Without endsAt, Alertmanager resolves an alert nobody posts
		// again within its resolve_timeout (5 minutes by default), and
		// gomaint posts a finding that stays only every repeat interval:
		// the alert would flap resolved between repeats. Two repeat
		// intervals keep it active until the next repeat arrives, with
		// room for a late one; if gomaint goes away, it ends then.
		if repeat <= 0 {
			repeat = 4 * time.Hour
		}
		al.EndsAt = now.Add(2 * repeat)
	}
	return []amAlert{al}
}
