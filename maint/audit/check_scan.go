package audit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/target"
)

func init() { register(checkScan) }

var scanIncomplete = finding.Declare(finding.Decl{Name: "SCAN_INCOMPLETE", Lowest: finding.Warning, Highest: finding.Error,
	ID: "181582a8aa444bca98c3dabdb6685b57", Event: "finding",
	Summary: "parts of the cache (an error: all of it) could not be read; figures are lower bounds"})

// checkScan: what could not be read makes every figure a lower bound.
func checkScan(c *Context, cache *Cache) []Finding {
	var le *target.LinkError
	if errors.As(cache.ScanErr, &le) {
		return nil // checkPath
	}
	if cache.ScanErr != nil {
		return []Finding{{Code: scanIncomplete, Severity: finding.Error,
			Detail: fmt.Sprintf("cannot read the cache: %v", cache.ScanErr),
			Fix:    fmt.Sprintf("make %s a directory readable by %s", shellQuote(cache.Path), userName(cache.Owner))}}
	}
	if !scanned(cache) || cache.Facts.Unreadable.Count == 0 {
		return nil
	}
	u := cache.Facts.Unreadable
	return []Finding{{Code: scanIncomplete, Severity: finding.Warning, Count: u.Count,
		Detail: fmt.Sprintf("%d entries could not be read, so sizes are lower bounds: %s", u.Count, strings.Join(u.Paths, "; ")),
		Fix:    fmt.Sprintf("sudo chown -R %s: %s", userName(cache.Owner), shellQuote(cache.Path))}}
}
