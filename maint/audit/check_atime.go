package audit

import (
	"fmt"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
)

func init() { register(checkAtime) }

// checkAtime: module versions are aged by atime; under noatime that is the
// extraction time, so a cleanup could remove versions in daily use.
func checkAtime(c *Context, cache *Cache) []Finding {
	if !scanned(cache) || cache.Target.Kind != config.Mod || !cache.FS.Has("noatime") {
		return nil
	}
	return []Finding{{Code: "ATIME_UNRELIABLE", Severity: finding.Info, Path: cache.FS.MountPoint,
		Detail: fmt.Sprintf("%s is mounted noatime, so module versions are aged by extraction time, not by last use", cache.FS.MountPoint),
		Fix:    fmt.Sprintf("remount %s with relatime (the default), or set a generous max_age for target %q", cache.FS.MountPoint, cache.Target.Name)}}
}
