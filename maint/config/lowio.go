package config

import (
	"fmt"
	"time"
)

// LowIO is [daemon] low_io: whether the daemon keeps its own writes and
// scans to a minimum for flash storage that wears (SD cards, eMMC).
type LowIO int

const (
	// LowIOAuto, the default: on when the state directory or a cache is on
	// SD/eMMC or a removable drive (package flash decides).
	LowIOAuto LowIO = iota
	LowIOOn
	LowIOOff
)

// What low_io changes in the daemon's timing (docs: README "The daemon",
// gomaint.8, packaging/gomaint.toml). The watch's safety-net rescan and a
// degraded watch's rescans are the daemon's (daemon.LowIOIntervals).
const (
	// DefaultAuditSchedule is audit_schedule's default; under low_io it
	// becomes LowIOAuditSchedule. A schedule set to anything else is kept.
	DefaultAuditSchedule = "@hourly"
	LowIOAuditSchedule   = "@every 6h"
	LowIOAuditEvery      = 6 * time.Hour // LowIOAuditSchedule's period
)

// AuditScheduleFor is the audit schedule in force: LowIOAuditSchedule
// for the default one when low is on.
func (d Daemon) AuditScheduleFor(low bool) string {
	if low && d.AuditSchedule == DefaultAuditSchedule {
		return LowIOAuditSchedule
	}
	return d.AuditSchedule
}

// UnmarshalTOML accepts true, false or "auto".
func (l *LowIO) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case bool:
		*l = LowIOOff
		if x {
			*l = LowIOOn
		}
		return nil
	case string:
		if x == "auto" {
			*l = LowIOAuto
			return nil
		}
	}
	return fmt.Errorf("%v is not true, false or \"auto\": write low_io = true on flash storage, false to keep the usual intervals, or leave it out to decide from the storage", quoteIfString(v))
}

// MarshalTOML writes it back as it is read.
func (l LowIO) MarshalTOML() ([]byte, error) {
	switch l {
	case LowIOOn:
		return []byte("true"), nil
	case LowIOOff:
		return []byte("false"), nil
	}
	return []byte(`"auto"`), nil
}

func quoteIfString(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}
