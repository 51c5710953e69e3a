package config

import (
	"errors"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// MinEvery is the shortest "@every" interval: a scan of every cache more
// often than this is a busy loop, not a schedule.
const MinEvery = time.Minute

// scheduleProbe is where a cron spec is checked for a next run: the start
// of a year that is not a leap year, so that a spec firing only on
// 29 February is refused whatever today's date, like one on 30 February.
var scheduleProbe = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

// ParseSchedule parses a daemon schedule: five cron fields or a descriptor
// such as "@hourly" or "@every 30m". An empty spec is a disabled schedule
// and parses to nil. A schedule must fire at least once a year, and
// "@every" no more often than MinEvery.
func ParseSchedule(spec string) (cron.Schedule, error) {
	if spec == "" {
		return nil, nil
	}
	// robfig/cron slices up to the first space after a time zone and
	// panics when there is none.
	if (strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=")) && !strings.Contains(spec, " ") {
		return nil, errors.New("a time zone (CRON_TZ=Europe/Berlin) must be followed by a space and the schedule")
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		// robfig quotes the spec after a colon; the caller prints it already.
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg[i:], spec) {
			msg = msg[:i]
		}
		return nil, errors.New(msg)
	}
	switch s := s.(type) {
	case cron.ConstantDelaySchedule:
		// robfig turns zero and negative intervals into one second.
		if s.Delay < MinEvery {
			return nil, errors.New("the interval must be at least 1m")
		}
	case *cron.SpecSchedule:
		// robfig returns the zero time when it finds no run within five
		// years; the daemon must never plan from that.
		probe := scheduleProbe.In(s.Location)
		if next := s.Next(probe); next.IsZero() || next.After(probe.AddDate(1, 0, 0)) {
			return nil, errors.New("it never fires, or less than once a year")
		}
	}
	return s, nil
}
