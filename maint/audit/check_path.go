package audit

import (
	"errors"
	"fmt"

	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/target"
)

func init() { register(checkPath) }

var unsafePath = finding.Declare(finding.Decl{Name: "UNSAFE_PATH", Lowest: finding.Error, Highest: finding.Error,
	ID: "f574bdaa0fcc48779dbe5b088a5f3055", Event: "finding",
	Summary: "the cache path runs through a link another user controls; the target is left alone"})

// checkPath: a cache path through a link that another user could have
// made is refused before anything is read (target.LinkError).
func checkPath(c *Context, cache *Cache) []Finding {
	var le *target.LinkError
	if !errors.As(cache.ScanErr, &le) {
		return nil
	}
	return []Finding{{Code: unsafePath, Severity: finding.Error, Path: le.Link,
		Detail: le.Error(),
		Fix:    fmt.Sprintf("set the target's path to the directory %s points to, after checking that it is the cache", shellQuote(le.Link))}}
}
