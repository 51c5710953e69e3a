package audit

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/scan"
)

func init() { register(checkVolatile) }

var cacheVolatile = finding.Declare(finding.Decl{Name: "CACHE_VOLATILE", Lowest: finding.Warning, Highest: finding.Warning,
	ID: "ec7a4f18d76a4ecd86667437c5bc4b98", Event: "finding",
	Summary: "the cache is on tmpfs or ramfs, or under a temporary directory: lost at reboot"})

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
	return []Finding{{Code: cacheVolatile, Severity: finding.Warning,
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

// moveFix says how to move a cache to persistent storage, where its
// location really comes from: go env -w cannot override a variable set in
// the environment, so that is changed where it is set.
func moveFix(c *Context, cache *Cache) string {
	key := envName(cache)
	if c.Scope == config.System {
		return fmt.Sprintf("set path = \"/var/cache/go/%s\" for target %q in /etc/gomaint/gomaint.toml, and %s=/var/cache/go/%s for its users",
			cache.Target.Kind, cache.Target.Name, key, cache.Target.Kind)
	}
	rel := ".cache/go-build"
	if cache.Target.Kind == "mod" {
		rel = "go/pkg/mod"
	}
	want := "$HOME/" + rel
	if c.Origin == nil {
		return "go env -w " + key + "=" + want
	}
	o := c.Origin(key)
	switch {
	case o.From == discover.FromEnvironment && o.File != "":
		line := "export " + key + "=" + want
		if strings.HasSuffix(o.File, ".conf") || o.File == "/etc/environment" {
			line = key + "=" + filepath.Join(c.Getenv("HOME"), rel) // environment.d and pam_env: no $HOME
		}
		return fmt.Sprintf("%s is set in the environment by %s:%d, which the go env file cannot override: change that line to %s, then log in again",
			key, o.File, o.Line, line)
	case o.From == discover.FromEnvironment && o.Unit != "":
		user := ""
		if o.UserUnit {
			user = "--user "
		}
		return fmt.Sprintf("%s is set by Environment= of %s: systemctl %sedit %s, and under [Service] set Environment=%s=%s",
			key, o.Unit, user, o.Unit, key, filepath.Join(c.Getenv("HOME"), rel))
	case o.From == discover.FromEnvironment:
		return fmt.Sprintf("%s is set in the environment (by no shell profile or environment.d file gomaint knows), which the go env file cannot override: change it where it is set, e.g. export %s=%s",
			key, key, want)
	case c.Getenv("GOENV") == "off":
		return fmt.Sprintf("GOENV=off leaves go env -w nowhere to write: set %s in the environment instead, e.g. export %s=%s in ~/.profile", key, key, want)
	}
	return "go env -w " + key + "=" + want
}
