package audit

import (
	"fmt"
	"strings"
)

// Severity orders findings: info < warning < error.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

var severityNames = []string{"info", "warning", "error"}

func (s Severity) String() string { return severityNames[s] }

// ParseSeverity reads "info", "warning" or "error".
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("%q is not a severity: use info, warning or error", s)
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Finding is one problem, with what to do about it.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Cache is the target name; empty for machine-wide findings (GOROOT).
	Cache  string `json:"cache"`
	Path   string `json:"path"`
	Detail string `json:"detail"`
	// Fix is a concrete command or configuration line.
	Fix string `json:"fix"`
	// Count and the byte figures are behind the finding, when it has any;
	// each names what it measures, as the facts do: the st_size of the
	// entries found, their st_blocks*512 (how far over a limit), or the
	// free space of a file system.
	Count         int64 `json:"count,omitempty"`
	ApparentBytes int64 `json:"apparent_bytes,omitempty"`
	DiskBytes     int64 `json:"disk_bytes,omitempty"`
	FreeBytes     int64 `json:"free_bytes,omitempty"`
}
