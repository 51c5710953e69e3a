package audit

import (
	"fmt"
	"path"
	"sort"

	"github.com/gomaint/gomaint/maint/config"
)

func init() { register(checkOwner) }

// checkOwner: entries owned by another uid than the cache's, typically root
// after `sudo go build`. go cannot refresh their use time or replace them.
func checkOwner(c *Context, cache *Cache) []Finding {
	if !scanned(cache) {
		return nil
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
		out = append(out, Finding{Code: "FOREIGN_OWNER", Severity: Warning,
			Path: path.Join(cache.Path, o.Example), Count: o.Entries, Bytes: o.Bytes,
			Detail: fmt.Sprintf("%d entries (%s) are owned by %s, not %s (e.g. %s); left by `sudo go ...` or another user, they break later builds",
				o.Entries, config.FormatSize(o.Bytes), userName(uid), userName(cache.Owner), o.Example),
			Fix: fmt.Sprintf("sudo chown -R %s: %s", userName(cache.Owner), shellQuote(cache.Path))})
	}
	return out
}
