package audit

import (
	"fmt"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
)

func init() { register(checkAtime) }

var atimeUnreliable = finding.Declare(finding.Decl{Name: "ATIME_UNRELIABLE", Lowest: finding.Info, Highest: finding.Info,
	ID: "19fe7cae54584deeb512fff250ee06bc", Event: "finding",
	Summary: "a module cache on a noatime mount: versions are aged by extraction time, not last use"})

// checkAtime: module versions are aged by atime; under noatime that is the
// extraction time, so a cleanup could remove versions in daily use.
func checkAtime(c *Context, cache *Cache) []Finding {
	if !scanned(cache) || cache.Target.Kind != config.Mod || !cache.FS.Has("noatime") {
		return nil
	}
	return []Finding{{Code: atimeUnreliable, Severity: finding.Info, Path: cache.FS.MountPoint,
		Detail: fmt.Sprintf("%s is mounted noatime, so module versions are aged by extraction time, not by last use", cache.FS.MountPoint),
		Fix:    fmt.Sprintf("remount %s with relatime (the default), or set a generous max_age for target %q", cache.FS.MountPoint, cache.Target.Name)}}
}
