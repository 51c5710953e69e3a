package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gomaint/gomaint/maint/journal"
)

// TestCode is the code of a test alert. It is no finding: a test alert
// goes to every route, whatever its codes and min_severity.
const TestCode = "ALERT_TEST"

// TestResult is what the test alert did on one route.
type TestResult struct {
	Route    string
	Receiver string // Route.Redacted
	Attempt  Attempt
}

// TestAlert sends one test alert (status "test") to every route, or to the
// route called name, at once and not through the spool: one attempt each,
// not retried and not counted in CountsFile, each journaled. The results
// are in the order of routes.
func TestAlert(ctx context.Context, routes []Route, name, version string, sink journal.Sink) ([]TestResult, error) {
	var chosen []*Route
	var names []string
	for i := range routes {
		names = append(names, routes[i].Name)
		if name == "" || routes[i].Name == name {
			chosen = append(chosen, &routes[i])
		}
	}
	switch {
	case len(routes) == 0:
		return nil, fmt.Errorf("no [[alert]] is configured: add one to the configuration file (man gomaint, ALERTS)")
	case len(chosen) == 0:
		return nil, fmt.Errorf("no [[alert]] is named %q; the configured ones: %s", name, strings.Join(names, ", "))
	}
	a := testAlert(version, time.Now())
	results := make([]TestResult, len(chosen))
	var wg sync.WaitGroup
	for i, r := range chosen {
		wg.Go(func() {
			at := Send(ctx, r, &a, version)
			results[i] = TestResult{Route: r.Name, Receiver: r.Redacted(), Attempt: at}
			e := &Entry{Route: r.Name, Alert: a, Spooled: a.Time}
			if at.Outcome == Failed {
				e.Attempts = 1 // as settle counts a failure
			}
			emit(sink, r, e, &at, at.Outcome, errText(at.Err), time.Now())
		})
	}
	wg.Wait()
	return results, nil
}

func testAlert(version string, now time.Time) Alert {
	h := hostInfo()
	id := make([]byte, 16)
	rand.Read(id)
	return Alert{Schema: Schema, ID: hex.EncodeToString(id), Status: Test, Code: TestCode, Severity: "info",
		Message: "A test alert from gomaint on " + h.name + " (gomaint alert test): this route delivers alerts.",
		Fix:     "nothing to fix", Host: h.name, MachineID: h.machineID, Version: version, Time: now, StartsAt: now}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
