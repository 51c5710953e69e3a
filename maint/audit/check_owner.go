package audit

import (
	"fmt"
	"path"
	"sort"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
)

func init() { register(checkOwner) }

var foreignOwner = finding.Declare(finding.Decl{Name: "FOREIGN_OWNER", Lowest: finding.Warning, Highest: finding.Warning,
	ID: "0e76c1d3a5bb4311b20b8706a70e46cc", Event: "finding",
	Summary: "entries owned by another user (or, in a shared cache, another group)"})

// checkOwner: entries owned by another uid than the cache's, typically root
// after `sudo go build`. go cannot refresh their use time or replace them.
func checkOwner(c *Context, cache *Cache) []Finding {
	if !scanned(cache) {
		return nil
	}
	if cache.Group != nil {
		return foreignGroup(cache)
	}
	uids := make([]uint32, 0, len(cache.Facts.Owners))
	for uid := range cache.Facts.Owners {
		if uid != cache.Owner {
			uids = append(uids, uid)
		}
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	var out []Finding
	for _, uid := range uids {
		o := cache.Facts.Owners[uid]
		out = append(out, Finding{Code: foreignOwner, Severity: finding.Warning,
			Path: path.Join(cache.Path, o.Example), Count: o.Entries, ApparentBytes: o.ApparentBytes,
			Detail: fmt.Sprintf("%d entries (%s) are owned by %s, not %s (e.g. %s); left by `sudo go ...` or another user, they break later builds",
				o.Entries, config.FormatSize(o.ApparentBytes), userName(uid), userName(cache.Owner), o.Example),
			Fix: fmt.Sprintf("sudo chown -R %s: %s", userName(cache.Owner), shellQuote(cache.Path))})
	}
	return out
}

// foreignGroup: in a shared cache owners vary, but every entry must belong
// to the shared group, or the other members cannot use it.
func foreignGroup(cache *Cache) []Finding {
	fg := cache.Facts.ForeignGroup
	if fg.Count == 0 {
		return nil
	}
	return []Finding{{Code: foreignOwner, Severity: finding.Warning, Path: path.Join(cache.Path, fg.Paths[0]), Count: fg.Count, ApparentBytes: fg.ApparentBytes,
		Detail: fmt.Sprintf("%d entries (%s) of this shared cache do not belong to group %s (e.g. %s): other members cannot use them",
			fg.Count, config.FormatSize(fg.ApparentBytes), cache.Group.Name, fg.Paths[0]),
		Fix: fmt.Sprintf("sudo gomaint fix --system --target %s", cache.Target.Name)}}
}
