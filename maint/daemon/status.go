package daemon

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/safefs"
)

// Status is what `gomaint status` shows: the daemon's own view, answered
// over the control socket, and saved to the state directory after every
// run so that it can be shown when no daemon runs.
type Status struct {
	PID     int           `json:"pid"`
	Version string        `json:"version"`
	Scope   string        `json:"scope"`
	Config  string        `json:"config"`
	Started time.Time     `json:"started"`
	State   string        `json:"state"` // starting, ready, reloading, stopping
	Running string        `json:"running,omitempty"`
	GOROOT  goroot.Result `json:"goroot"`
	// GOROOTRequired makes a bad GOROOT an error rather than a warning.
	GOROOTRequired bool           `json:"goroot_required"`
	Targets        []TargetStatus `json:"targets"`
	// NextAudit and NextClean are zero when not scheduled.
	NextAudit time.Time `json:"next_audit"`
	NextClean time.Time `json:"next_clean"`
	Updated   time.Time `json:"updated"`
}

// TargetStatus is one target's figures, limits, runs and open findings.
type TargetStatus struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Path       string `json:"path"`
	Bytes      int64  `json:"disk_bytes"`
	Files      int64  `json:"files"`
	LimitBytes int64  `json:"limit_bytes"`
	// Watched: the figures are kept live from inotify events (an estimate
	// that errs high between rescans); otherwise they date from the last scan.
	Watched      bool  `json:"watched"`
	FSFreeBytes  int64 `json:"fs_free_bytes"`
	FSFreeInodes int64 `json:"fs_free_inodes"`

	LastAudit        time.Time `json:"last_audit"`
	LastClean        time.Time `json:"last_clean"`
	LastCleanSuccess time.Time `json:"last_clean_success"`
	LastCleanResult  string    `json:"last_clean_result,omitempty"`
	TrimFreedTotal   int64     `json:"trim_freed_bytes_total"`
	UsesRecorded     int64     `json:"uses_recorded,omitempty"`

	// Watch is the watch's state: "" (not watched: module caches, no
	// limit), absent, watching or degraded; WatchDetail says why.
	Watch       string `json:"watch,omitempty"`
	WatchDetail string `json:"watch_detail,omitempty"`

	Findings []audit.Finding `json:"findings"`
	Error    string          `json:"error,omitempty"`
}

// StatusLine is the one line systemd shows as the unit's status, e.g.
// "build 3.2GiB/10GiB, mod 5.1GiB; last clean 02:10, next 03:00".
func (s *Status) StatusLine() string {
	var parts []string
	for _, t := range s.Targets {
		p := t.Name + " " + config.FormatSize(t.Bytes)
		if t.LimitBytes > 0 {
			p += "/" + config.FormatSize(t.LimitBytes)
		}
		if n := len(t.Findings); n > 0 {
			p += fmt.Sprintf(" (%d findings)", n)
		}
		if t.Watch == "degraded" {
			p += " (watch degraded: enforced by rescans)"
		}
		parts = append(parts, p)
	}
	line := strings.Join(parts, ", ")
	var lastClean, lastAudit time.Time
	for _, t := range s.Targets {
		if t.LastClean.After(lastClean) {
			lastClean = t.LastClean
		}
		if t.LastAudit.After(lastAudit) {
			lastAudit = t.LastAudit
		}
	}
	var runs []string
	if !lastAudit.IsZero() {
		runs = append(runs, "last audit "+clock(lastAudit))
	}
	if !s.NextAudit.IsZero() {
		runs = append(runs, "next "+clock(s.NextAudit))
	}
	if !lastClean.IsZero() {
		runs = append(runs, "last clean "+clock(lastClean))
	}
	if !s.NextClean.IsZero() {
		runs = append(runs, "next clean "+clock(s.NextClean))
	}
	if len(runs) > 0 {
		line += "; " + strings.Join(runs, ", ")
	}
	if s.Running != "" {
		line += "; " + s.Running
	}
	return line
}

// clock shows a time of day, with the date when it is not today.
func clock(t time.Time) string {
	if y, m, d := time.Now().Date(); t.Year() == y && t.Month() == m && t.Day() == d {
		return t.Format("15:04")
	}
	return t.Format("Jan 2 15:04")
}

// StateDir is where the daemon saves its last status: $STATE_DIRECTORY
// when systemd sets it, else /var/lib/gomaint for the system and
// $XDG_STATE_HOME/gomaint (~/.local/state/gomaint) for a user.
func StateDir(scope config.Scope, getenv func(string) string) string {
	if d := getenv("STATE_DIRECTORY"); filepath.IsAbs(d) {
		return strings.SplitN(d, ":", 2)[0]
	}
	if scope == config.System {
		return "/var/lib/gomaint"
	}
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "gomaint")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "gomaint")
	}
	return ""
}

const stateFile = "status.json"

// SaveStatus writes s to dir/status.json with safefs.WriteAtomic, so a
// reader never sees half of it.
func SaveStatus(dir string, s *Status) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := safefs.WriteAtomic(dir, stateFile, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("save status in %s: %w", dir, err)
	}
	return nil
}

// LoadStatus reads the status the daemon saved last.
func LoadStatus(dir string) (*Status, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}
