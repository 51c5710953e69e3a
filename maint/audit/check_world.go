package audit

import (
	"fmt"
	"path"
	"strings"

	"github.com/gomaint/gomaint/maint/finding"
)

func init() { register(checkWorldWritable) }

var worldWritable = finding.Declare(finding.Decl{Name: "WORLD_WRITABLE", Lowest: finding.Error, Highest: finding.Error,
	ID: "df5dd074a88045c9bdb7c896f2bab4e9", Event: "finding",
	Summary: "entries every user can write: anyone could plant build outputs"})

// checkWorldWritable: a cache entry any user can write lets anyone plant
// build outputs that other users' builds will link. For sharing, the group
// is the trust boundary, never "other".
func checkWorldWritable(c *Context, cache *Cache) []Finding {
	if !scanned(cache) || cache.Facts.WorldWrite.Count == 0 {
		return nil
	}
	w := cache.Facts.WorldWrite
	return []Finding{{Code: worldWritable, Severity: finding.Error, Path: path.Join(cache.Path, w.Paths[0]), Count: w.Count,
		Detail: fmt.Sprintf("%d entries are writable by every user (e.g. %s): anyone could plant outputs that other builds use",
			w.Count, strings.Join(w.Paths, ", ")),
		Fix: "chmod -R o-w " + shellQuote(cache.Path)}}
}
