package config

import (
	"errors"
	"strings"

	"github.com/robfig/cron/v3"
)

// ParseSchedule parses a daemon schedule: five cron fields or a descriptor
// such as "@hourly" or "@every 30m". An empty spec is a disabled schedule
// and parses to nil.
func ParseSchedule(spec string) (cron.Schedule, error) {
	if spec == "" {
		return nil, nil
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
	return s, nil
}
