package audit

import (
	"fmt"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/finding"
)

func init() { register(checkFuture) }

var futureTimestamp = finding.Declare(finding.Decl{Name: "FUTURE_TIMESTAMP", Lowest: finding.Warning, Highest: finding.Warning,
	ID: "0a5f52d3c5c745c6bddd024835e4f63a", Event: "finding",
	Summary: "entries dated ahead of the clock, which go never marks as used"})

// checkFuture: an entry dated ahead of the clock (a clock that jumped, an
// archive restored from another machine) is never refreshed by go, whose
// refresh waits for the mtime to be an hour old. A trim counts it as used
// now for min_age after it was dated, then as the oldest entry.
func checkFuture(c *Context, cache *Cache) []Finding {
	if !scanned(cache) || cache.Facts.Future.Count == 0 {
		return nil
	}
	f := cache.Facts.Future
	return []Finding{{Code: futureTimestamp, Severity: finding.Warning, Count: f.Count,
		Detail: fmt.Sprintf("%d entries are dated in the future, up to %s (e.g. %s); go never marks their use, so a clean counts them as unused once min_age has passed",
			f.Count, time.Unix(cache.Facts.FutureMax, 0).UTC().Format("2006-01-02 15:04 MST"), strings.Join(f.Paths, ", ")),
		Fix: fmt.Sprintf("check the clock (timedatectl), then date them now: find %s -newermt '1 minute' -exec touch -h {} +", shellQuote(cache.Path))}}
}
