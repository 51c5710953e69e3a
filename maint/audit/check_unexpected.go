package audit

import (
	"fmt"
	"path"
	"strings"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/facts"
	"github.com/gomaint/gomaint/maint/finding"
)

func init() { register(checkUnexpected) }

var unexpectedEntry = finding.Declare(finding.Decl{Name: "UNEXPECTED_ENTRY", Lowest: finding.Warning, Highest: finding.Warning,
	ID: "7d50f9c35b734151b4ff7419ba02d790", Event: "finding",
	Summary: "entries Go's layout does not define, stale temporary files, mounts inside the cache"})

// checkUnexpected: anything in the cache that Go's layout does not define,
// leftovers of interrupted go commands, and what the walk did not enter.
// gomaint never deletes these; a person decides.
func checkUnexpected(c *Context, cache *Cache) []Finding {
	if !scanned(cache) {
		return nil
	}
	f := cache.Facts
	var out []Finding
	add := func(s facts.Sample, detail, fix string) {
		if s.Count == 0 {
			return
		}
		out = append(out, Finding{Code: unexpectedEntry, Severity: finding.Warning,
			Path: path.Join(cache.Path, s.Paths[0]), Count: s.Count, ApparentBytes: s.ApparentBytes,
			Detail: fmt.Sprintf(detail, s.Count, strings.Join(s.Paths, ", ")), Fix: fix})
	}
	add(f.Unexpected,
		fmt.Sprintf("%%d entries (%s) are not part of Go's %s layout (e.g. %%s); gomaint never deletes them",
			config.FormatSize(f.Unexpected.ApparentBytes), cache.Target.Kind),
		"look at them and remove what is not needed: ls -la "+strings.Join(quoteAll(cache.Path, f.Unexpected.Paths), " "))
	add(f.StaleTmp,
		"%d temporary entries of interrupted go commands are over an hour old (e.g. %s)",
		"remove them: chmod -R u+w "+strings.Join(quoteAll(cache.Path, f.StaleTmp.Paths), " ")+" && rm -rf "+strings.Join(quoteAll(cache.Path, f.StaleTmp.Paths), " "))
	add(f.OtherMounts,
		"%d mount points inside the cache were not entered (e.g. %s); a cache must be one file system",
		"unmount them: sudo umount "+strings.Join(quoteAll(cache.Path, f.OtherMounts.Paths), " "))
	add(f.TooDeep,
		"%d directories are nested too deeply to be read (e.g. %s); go never nests a cache this deep",
		"remove the deep tree by hand: rm -rf "+strings.Join(quoteAll(cache.Path, f.TooDeep.Paths), " "))
	return out
}
