package audit

import (
	"errors"
	"fmt"

	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/target"
)

func init() { register(checkPath) }

// checkPath: a cache path through a link that another user could have
// made is refused before anything is read (target.LinkError).
func checkPath(c *Context, cache *Cache) []Finding {
	var le *target.LinkError
	if !errors.As(cache.ScanErr, &le) {
		return nil
	}
	return []Finding{{Code: "UNSAFE_PATH", Severity: finding.Error, Path: le.Link,
		Detail: le.Error(),
		Fix:    fmt.Sprintf("set the target's path to the directory %s points to, after checking that it is the cache", shellQuote(le.Link))}}
}
