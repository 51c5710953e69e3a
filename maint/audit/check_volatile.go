package audit

import (
	"fmt"
	"strings"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/scan"
)

func init() { register(checkVolatile) }

// volatileDirs are emptied at boot or by tmpfiles cleaning on most systems.
var volatileDirs = []string{"/tmp", "/var/tmp", "/dev/shm", "/run"}

// checkVolatile: a cache on tmpfs or ramfs, or under a temporary directory,
// is lost at reboot or by age cleaning, and every build after recompiles.
func checkVolatile(c *Context, cache *Cache) []Finding {
	if cache.Path == "" {
		return nil
	}
	var why string
	if cache.Exists && cache.ScanErr == nil && cache.FS.Volatile() {
		why = fmt.Sprintf("is on %s (mounted at %s), which is emptied at every reboot", cache.FS.Type, cache.FS.MountPoint)
	} else if fs, ok := notYetOn(cache); ok && fs.Volatile() {
		why = fmt.Sprintf("does not exist yet, and go would create it on %s (mounted at %s), which is emptied at every reboot", fs.Type, fs.MountPoint)
	} else {
		for _, d := range volatileDirs {
			if cache.Path == d || strings.HasPrefix(cache.Path, d+"/") {
				why = fmt.Sprintf("is under %s, which is cleaned at boot or by age on most systems", d)
				break
			}
		}
	}
	if why == "" {
		return nil
	}
	return []Finding{{Code: "CACHE_VOLATILE", Severity: Warning,
		Detail: fmt.Sprintf("%s %s %s; every build after that starts from nothing", envName(cache), cache.Path, why),
		Fix:    moveFix(c, cache)}}
}

// notYetOn is the file system a cache go has not created yet will be
// on: that of its nearest existing ancestor.
func notYetOn(cache *Cache) (scan.FS, bool) {
	if cache.Exists {
		return scan.FS{}, false
	}
	fs, _, err := scan.NearestFS(cache.Path)
	return fs, err == nil
}

// envName is the go variable that names a cache of this kind.
func envName(cache *Cache) string {
	if cache.Target.Kind == "mod" {
		return "GOMODCACHE"
	}
	return "GOCACHE"
}

// moveFix says how to move a cache to persistent storage.
func moveFix(c *Context, cache *Cache) string {
	if c.Scope == config.System {
		return fmt.Sprintf("set path = \"/var/cache/go/%s\" for target %q in /etc/gomaint/gomaint.toml, and %s=/var/cache/go/%s for its users",
			cache.Target.Kind, cache.Target.Name, envName(cache), cache.Target.Kind)
	}
	if cache.Target.Kind == "mod" {
		return "go env -w GOMODCACHE=$HOME/go/pkg/mod"
	}
	return "go env -w GOCACHE=$HOME/.cache/go-build"
}
