package audit

import (
	"fmt"
	"strings"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
)

func init() { register(checkInterrupted) }

// checkInterrupted: a module version whose .partial outlived any go
// command was half removed or half extracted when something was killed.
// go re-extracts it on next use if its .zip is there; a clean completes
// the removal under go's lock.
func checkInterrupted(c *Context, cache *Cache) []Finding {
	if !scanned(cache) || cache.Facts.HalfRemoved.Count == 0 {
		return nil
	}
	h := cache.Facts.HalfRemoved
	return []Finding{{Code: "VERSION_HALF_REMOVED", Severity: finding.Warning, Count: h.Count,
		Detail: fmt.Sprintf("%d module versions were left half removed or half extracted (a .partial file over an hour old), e.g. %s",
			h.Count, strings.Join(h.Paths, ", ")),
		Fix: gomaintClean(c, cache)}}
}

// gomaintClean is the clean of one target, in the audit's scope.
func gomaintClean(c *Context, cache *Cache) string {
	if c.Scope == config.System {
		return "sudo gomaint clean --system --target " + shellQuote(cache.Target.Name)
	}
	return "gomaint clean --target " + shellQuote(cache.Target.Name)
}
