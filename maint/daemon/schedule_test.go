package daemon

import (
	"testing"
	"time"
)

// never is a schedule with no next run, as robfig/cron reports one it
// cannot find within five years: the zero time.
type never struct{}

func (never) Next(time.Time) time.Time { return time.Time{} }

// TestPlanNeverBusyLoops: a schedule without a next run (config validation
// refuses such specs, but a reloaded or future one must not spin) plans
// nothing. The loop of Run is driven here for 300ms and its audits
// counted: planning from the zero time plus jitter put every run in the
// past, which was 103 audits in 10s in the issue.
func TestPlanNeverBusyLoops(t *testing.T) {
	d := &daemon{}
	s := &schedule{kind: jobAudit, spec: never{}, jitter: 5 * time.Minute}
	s.plan(time.Now())
	d.scheds = []*schedule{s}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	audits := 0
	deadline := time.After(300 * time.Millisecond)
loop:
	for {
		d.resetTimer(timer)
		select {
		case now := <-timer.C:
			d.fire(now)
			for _, j := range d.pending {
				if j.kind == jobAudit {
					audits++
				}
			}
			d.pending = nil
		case <-deadline:
			break loop
		}
	}
	if audits != 0 {
		t.Errorf("%d audits in 300ms from a schedule that never fires", audits)
	}
	if next := d.next(jobAudit); !next.IsZero() {
		t.Errorf("next audit planned at %v", next)
	}
}
