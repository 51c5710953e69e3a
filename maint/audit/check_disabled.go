package audit

func init() { register(checkDisabled) }

// checkDisabled: GOCACHE=off, or no cache path could be determined at all.
func checkDisabled(c *Context, cache *Cache) []Finding {
	switch {
	case cache.Disabled:
		return []Finding{{Code: "CACHE_DISABLED", Severity: Error,
			Detail: "GOCACHE=off: go build and go test fail, since Go 1.12 requires a build cache",
			Fix:    "unset GOCACHE, or point it at a writable directory: go env -w GOCACHE=$HOME/.cache/go-build"}}
	case cache.Unresolved && cache.Target.Kind == "build":
		return []Finding{{Code: "CACHE_DISABLED", Severity: Error,
			Detail: "no build cache: GOCACHE, XDG_CACHE_HOME and HOME are all unset, so go cannot build",
			Fix:    "set GOCACHE to a writable directory (Environment=GOCACHE=/var/cache/go/build in a unit)"}}
	case cache.Unresolved:
		return []Finding{{Code: "CACHE_DISABLED", Severity: Error,
			Detail: "no module cache: GOMODCACHE, GOPATH and HOME are all unset, so go cannot download modules",
			Fix:    "set GOMODCACHE to a writable directory (Environment=GOMODCACHE=/var/cache/go/mod in a unit)"}}
	}
	return nil
}
