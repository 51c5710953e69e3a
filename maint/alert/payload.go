package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Schema is the version of the JSON payload (docs/alerts.md); it changes
// only when a field changes meaning or goes away.
const Schema = 1

// Statuses of an alert.
const (
	Firing   = "firing"
	Resolved = "resolved"
	Test     = "test" // `gomaint alert test`
)

// Alert is one alert: everything an operator needs to act, in gomaint's
// own JSON schema, which the exec route gets on stdin and the "json"
// webhook format posts as it is.
type Alert struct {
	Schema int `json:"schema"`
	// ID is the same for every attempt and every route of one alert, so a
	// receiver drops repeats; a repeat of a finding still open, or its
	// resolution, is a new alert with a new ID.
	ID       string `json:"id"`
	Status   string `json:"status"`
	Code     string `json:"code"`
	Severity string `json:"severity"`
	// Target is the cache's target name; empty for machine-wide findings.
	Target  string `json:"target"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
	// UID is the user affected: the owner of the offending entry, or for a
	// cache that cannot be written the user who needs to write it.
	UID *Account `json:"uid,omitempty"`
	// Path is the absolute real path the finding is about; ConfiguredPath
	// is the cache's path as configured, when it differs from its real path.
	Path           string    `json:"path"`
	ConfiguredPath string    `json:"configured_path,omitempty"`
	Mode           *Snapshot `json:"mode,omitempty"`
	Host           string    `json:"host"`
	MachineID      string    `json:"machine_id"`
	Version        string    `json:"version"`
	// Time is when this alert was made; StartsAt when the finding was
	// first seen; EndsAt, for a resolved finding, when it was gone.
	Time     time.Time  `json:"time"`
	StartsAt time.Time  `json:"starts_at"`
	EndsAt   *time.Time `json:"ends_at,omitempty"`
}

// Account is a user: the numeric ID, and the name when it resolves.
type Account struct {
	ID   uint32 `json:"id"`
	Name string `json:"name,omitempty"`
}

// alertID names one alert of the finding key: its status, when the
// finding was first seen, and which repeat this is.
func alertID(key, status string, since time.Time, repeat int) string {
	h := sha256.New()
	for _, s := range []string{key, status, since.UTC().Format(time.RFC3339Nano), strconv.Itoa(repeat)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
