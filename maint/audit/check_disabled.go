package audit

import (
	"fmt"

	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/finding"
)

func init() { register(checkDisabled) }

var cacheDisabled = finding.Declare(finding.Decl{Name: "CACHE_DISABLED", Lowest: finding.Error, Highest: finding.Error,
	ID: "2b16e6a0b7544f4b8ea325ceae83fea5", Event: "finding",
	Summary: "GOCACHE=off, or no cache path can be derived: go cannot build or download"})

// checkDisabled: GOCACHE=off, or no cache path could be determined at all.
func checkDisabled(c *Context, cache *Cache) []Finding {
	switch {
	case cache.Disabled:
		return []Finding{{Code: cacheDisabled, Severity: finding.Error,
			Detail: "GOCACHE=off: go build and go test fail, since Go 1.12 requires a build cache",
			Fix:    offFix(c)}}
	case cache.Unresolved && cache.Target.Kind == "build":
		return []Finding{{Code: cacheDisabled, Severity: finding.Error,
			Detail: "no build cache: GOCACHE, XDG_CACHE_HOME and HOME are all unset, so go cannot build",
			Fix:    "set GOCACHE to a writable directory (Environment=GOCACHE=/var/cache/go/build in a unit)"}}
	case cache.Unresolved:
		return []Finding{{Code: cacheDisabled, Severity: finding.Error,
			Detail: "no module cache: GOMODCACHE, GOPATH and HOME are all unset, so go cannot download modules",
			Fix:    "set GOMODCACHE to a writable directory (Environment=GOMODCACHE=/var/cache/go/mod in a unit)"}}
	}
	return nil
}

// offFix: GOCACHE=off goes away where it was set; go env -u cannot
// remove it from the environment.
func offFix(c *Context) string {
	if c.Origin == nil {
		return "unset GOCACHE, or point it at a writable directory"
	}
	switch o := c.Origin("GOCACHE"); {
	case o.From == discover.FromGoEnvFile:
		return "go env -u GOCACHE"
	case o.File != "":
		return fmt.Sprintf("remove GOCACHE=off from %s:%d (or point it at a writable directory), then log in again", o.File, o.Line)
	case o.Unit != "":
		return fmt.Sprintf("remove Environment=GOCACHE=off from %s (systemctl %sedit %s)", o.Unit, map[bool]string{true: "--user "}[o.UserUnit], o.Unit)
	}
	return "unset GOCACHE where your environment sets it, or point it at a writable directory"
}
