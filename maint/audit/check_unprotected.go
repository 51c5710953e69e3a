package audit

import (
	"fmt"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/protect"
	"github.com/gomaint/gomaint/maint/tmpfiles"
)

func init() { register(checkUnprotected) }

var cacheUnprotected = finding.Declare(finding.Decl{Name: "CACHE_UNPROTECTED", Lowest: finding.Warning, Highest: finding.Warning,
	ID: "95436c59f52f40bca96554d46a42091c", Event: "finding",
	Summary: "a tmpfiles.d rule ages or empties the cache, and no line of its own excludes it"})

// checkUnprotected: a tmpfiles.d rule ages the cache's contents (or empties
// it at boot), and neither the cache nor a directory in between has a line
// of its own (such as x) that keeps the aging away.
func checkUnprotected(c *Context, cache *Cache) []Finding {
	if cache.Path == "" || c.Tmpfiles == nil {
		return nil
	}
	rules, err := c.Tmpfiles()
	if err != nil || len(rules) == 0 {
		return nil // no systemd-tmpfiles, nothing cleans
	}
	v := tmpfiles.Judge(rules, cache.Path)
	if v.Protected() {
		return nil
	}
	r := v.Cleaner
	if v.AtBoot {
		return []Finding{{Code: cacheUnprotected, Severity: finding.Warning,
			Detail: fmt.Sprintf("%s:%d (%s %s) empties %s at every boot, and no tmpfiles.d line can exclude it",
				r.File, r.Line, r.Type, r.Path, cache.Path),
			Fix: moveFix(c, cache)}}
	}
	fix := "sudo gomaint protect --system"
	if c.Scope == config.User {
		fix = "gomaint protect"
		if !r.User { // a user's exclusions do not bind the system's cleaning
			fix = "rename the cache: its path holds a control character, which no tmpfiles.d line can name"
			if line, err := protect.Line(cache.Path); err == nil { // quoted and escaped as tmpfiles.d reads it
				fix = fmt.Sprintf("echo %s | sudo tee -a %s", shellQuote(line), paths.SystemTmpfiles)
			}
		}
	}
	return []Finding{{Code: cacheUnprotected, Severity: finding.Warning,
		Detail: fmt.Sprintf("%s:%d (%s %s %s) removes cache entries unused for %s, and no x line (nor another line of its own) excludes %s",
			r.File, r.Line, r.Type, r.Path, r.Age, r.Age, cache.Path),
		Fix: fix}}
}
