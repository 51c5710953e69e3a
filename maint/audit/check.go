package audit

import (
	"context"
	"os/user"
	"sync"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/facts"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/tmpfiles"
)

// Cache is what the checks know about one target.
type Cache struct {
	Target config.Target
	// Path is the cache root after resolution (and symlinks resolved).
	Path string
	// Disabled is set when GOCACHE=off; Unresolved when no path could be
	// determined. Neither has facts.
	Disabled, Unresolved bool
	// Exists is false for a cache go has not created yet.
	Exists bool
	// Owner is the uid the cache belongs to: the one that must be able to
	// write it. A shared cache belongs to Group instead.
	Owner uint32
	Group *user.Group
	// Facts and FS are filled when the cache exists and could be opened.
	Facts   *facts.Facts
	FS      scan.FS
	ScanErr error
}

// Context is shared by the checks of one audit.
type Context struct {
	Ctx   context.Context
	Now   time.Time
	Scope config.Scope
	// Tmpfiles returns the tmpfiles.d rules in force, loaded once.
	Tmpfiles func() ([]tmpfiles.Rule, error)
	// Origin says where a go variable's value comes from, for fixes that
	// must name the place to change it.
	Origin func(key string) discover.Origin
	// Getenv reads the audited environment.
	Getenv discover.Getenv
	// Saved returns what the daemon saved of the caches last (nil: none),
	// loaded once.
	Saved func() *savedStatus
}

// A Check looks at one cache and returns its findings. To add a check, add
// a file with a function of this type and register it in its init.
type Check func(c *Context, cache *Cache) []Finding

var (
	checksMu sync.Mutex
	checks   []Check
)

func register(c Check) {
	checksMu.Lock()
	defer checksMu.Unlock()
	checks = append(checks, c)
}

// runChecks runs every registered check on a cache.
func runChecks(c *Context, cache *Cache) []Finding {
	var out []Finding
	for _, check := range checks {
		for _, f := range check(c, cache) {
			f.Cache = cache.Target.Name
			if f.Path == "" {
				f.Path = cache.Path
			}
			out = append(out, f)
		}
	}
	return out
}

// scanned reports whether the cache has facts for checks to look at.
func scanned(cache *Cache) bool { return cache.Facts != nil }
