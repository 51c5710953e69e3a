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

var staleToolchains = finding.Declare(finding.Decl{Name: "STALE_TOOLCHAINS", Lowest: finding.Info, Highest: finding.Info,
	ID: "911a5d7c816e4ebdbdc49eaf1682e869", Event: "finding",
	Summary: "GOTOOLCHAIN downloads unused for toolchain_max_age"})

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
	return []Finding{{Code: staleToolchains, Severity: finding.Info, Count: int64(len(stale)), ApparentBytes: bytes,
		Path: cache.Path + "/golang.org/" + stale[0],
		Detail: fmt.Sprintf("%d toolchains unused for over %s hold %s: %s",
			len(stale), config.FormatDuration(maxAge), config.FormatSize(bytes), strings.Join(stale, ", ")),
		Fix: "remove them: chmod -R u+w " + strings.Join(dirs, " ") + " && rm -rf " + strings.Join(dirs, " ")}}
}
