package daemon

import (
	"math/rand/v2"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/gomaint/gomaint/maint/config"
)

// schedule is one cron spec of the configuration and its next run.
type schedule struct {
	kind   string
	spec   cron.Schedule
	jitter time.Duration
	next   time.Time
}

// newSchedules makes the configured schedules; empty specs are disabled.
// The configuration was validated, so the specs parse; low is low_io.
func newSchedules(c config.Daemon, low bool, now time.Time) []*schedule {
	var out []*schedule
	for kind, spec := range map[string]string{jobAudit: c.AuditScheduleFor(low), jobClean: c.CleanSchedule, jobRescan: c.RescanSchedule,
		jobVerify: c.VerifySchedule, jobVerifyFull: c.VerifyFullSchedule} {
		s, err := config.ParseSchedule(spec)
		if err != nil || s == nil {
			continue
		}
		sc := &schedule{kind: kind, spec: s, jitter: time.Duration(c.Jitter)}
		sc.plan(now)
		out = append(out, sc)
	}
	return out
}

// plan sets the next run after now, delayed by up to the jitter. Runs
// missed while one was in progress, or while the machine slept, are not
// made up: the next run is always planned from now. A schedule without a
// next run (robfig/cron's zero time; config refuses such specs) plans
// none: the zero time plus jitter would be due forever, a busy loop.
func (s *schedule) plan(now time.Time) {
	s.next = s.spec.Next(now)
	if !s.next.After(now) {
		s.next = time.Time{}
		return
	}
	if s.jitter > 0 {
		s.next = s.next.Add(rand.N(s.jitter))
	}
}

// resetTimer arms t for the earliest next run or retry.
func (d *daemon) resetTimer(t *time.Timer) {
	var first time.Time
	for _, s := range d.scheds {
		if !s.next.IsZero() && (first.IsZero() || s.next.Before(first)) {
			first = s.next
		}
	}
	for _, ts := range d.targets {
		if !ts.retryAt.IsZero() && (first.IsZero() || ts.retryAt.Before(first)) {
			first = ts.retryAt
		}
	}
	if at := d.nextLifecycle(); !at.IsZero() && (first.IsZero() || at.Before(first)) {
		first = at
	}
	if first.IsZero() {
		t.Stop()
		return
	}
	t.Reset(max(time.Until(first), 0))
}

// fire submits every job that is due and plans its next run.
func (d *daemon) fire(now time.Time) {
	for _, t := range d.targets {
		if !t.retryAt.IsZero() && !t.retryAt.After(now) {
			t.retryAt = time.Time{}
			d.submit(&job{kind: jobClean, target: t.rt.Name, trigger: "limit"})
		}
	}
	d.lifecycleDue(now)
	for _, s := range d.scheds {
		if s.next.IsZero() || s.next.After(now) {
			continue
		}
		d.submit(&job{kind: s.kind, trigger: "schedule"})
		s.plan(now)
	}
	d.planned()
}

// planned shows the next runs in the status (loop only: it owns scheds).
func (d *daemon) planned() {
	d.mu.Lock()
	d.status.NextAudit, d.status.NextClean = d.next(jobAudit), d.next(jobClean)
	d.mu.Unlock()
}

func (d *daemon) next(kind string) time.Time {
	for _, s := range d.scheds {
		if s.kind == kind {
			return s.next
		}
	}
	return time.Time{}
}
