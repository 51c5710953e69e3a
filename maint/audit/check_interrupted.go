package audit

import (
	"fmt"
	"strings"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
)

func init() { register(checkInterrupted) }

var versionHalfRemoved = finding.Declare(finding.Decl{Name: "VERSION_HALF_REMOVED", Lowest: finding.Warning, Highest: finding.Warning,
	ID: "b3f40508f1d645e3bc3e6bbd4cd61439", Event: "finding",
	Summary: "a module version left half removed or half extracted by a killed command"})

// checkInterrupted: a module version whose .partial outlived any go
// command was half removed or half extracted when something was killed.
// go re-extracts it on next use if its .zip is there; a clean completes
// the removal under go's lock.
func checkInterrupted(c *Context, cache *Cache) []Finding {
	if !scanned(cache) || cache.Facts.HalfRemoved.Count == 0 {
		return nil
	}
	h := cache.Facts.HalfRemoved
	return []Finding{{Code: versionHalfRemoved, Severity: finding.Warning, Count: h.Count,
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
