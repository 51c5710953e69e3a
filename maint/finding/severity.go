package finding

import (
	"fmt"
	"iter"
	"strings"

	"github.com/gomaint/gomaint/maint/journal"
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

// Worst returns the highest of severities, and false if there are none:
// what every command's --fail-on compares with.
func Worst(severities iter.Seq[Severity]) (Severity, bool) {
	worst, any := Info, false
	for s := range severities {
		if !any || s > worst {
			worst, any = s, true
		}
	}
	return worst, any
}

// Priority is the syslog priority of a finding's event.
func (s Severity) Priority() journal.Priority {
	return [...]journal.Priority{Info: journal.Notice, Warning: journal.Warning, Error: journal.Err}[s]
}
