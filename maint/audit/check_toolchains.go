package audit

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
)

func init() { register(checkToolchains) }

// checkToolchains: GOTOOLCHAIN downloads (hundreds of MB each) that have
// not run for longer than toolchain_max_age.
func checkToolchains(c *Context, cache *Cache) []Finding {
	maxAge := time.Duration(cache.Target.ToolchainMaxAge)
	if !scanned(cache) || cache.Target.Kind != config.Mod || maxAge == 0 {
		return nil
	}
	cutoff := c.Now.Add(-maxAge).Unix()
	var stale []string
	var bytes int64
	for name, t := range cache.Facts.Toolchains {
		if t.LastUsed < cutoff {
			stale = append(stale, name)
			bytes += t.ApparentBytes
		}
	}
	if len(stale) == 0 {
		return nil
	}
	sort.Strings(stale)
	dirs := make([]string, len(stale))
	for i, s := range stale {
		dirs[i] = shellQuote(cache.Path + "/golang.org/" + s)
	}
	return []Finding{{Code: "STALE_TOOLCHAINS", Severity: finding.Info, Count: int64(len(stale)), ApparentBytes: bytes,
		Path: cache.Path + "/golang.org/" + stale[0],
		Detail: fmt.Sprintf("%d toolchains unused for over %s hold %s: %s",
			len(stale), config.FormatDuration(maxAge), config.FormatSize(bytes), strings.Join(stale, ", ")),
		Fix: "remove them: chmod -R u+w " + strings.Join(dirs, " ") + " && rm -rf " + strings.Join(dirs, " ")}}
}
