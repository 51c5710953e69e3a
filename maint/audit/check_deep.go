package audit

import (
	"fmt"
	"path"
	"strings"

	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/scan"
)

func init() { register(checkDeep) }

var treeTooDeep = finding.Declare(finding.Decl{Name: "TREE_TOO_DEEP", Lowest: finding.Warning, Highest: finding.Warning,
	ID: "3b59a424fa514225a0b62ee07d2bee00", Event: "finding",
	Summary: "directories nested deeper than a clean measures; go never nests a cache this deep"})

// checkDeep: go never nests a cache entry hundreds of levels deep, but
// anyone who can write the cache can. A clean removes such a unit whole
// (removal has no depth limit) but measures it only down to the limit.
func checkDeep(c *Context, cache *Cache) []Finding {
	if !scanned(cache) || cache.Facts.DeepTrees.Count == 0 {
		return nil
	}
	d := cache.Facts.DeepTrees
	return []Finding{{Code: treeTooDeep, Severity: finding.Warning, Count: d.Count, Path: path.Join(cache.Path, d.Paths[0]),
		Detail: fmt.Sprintf("%d directories are nested deeper than %d levels (in %s); go never nests this deep, and clean measures such entries only in part",
			d.Count, scan.MaxSubtreeDepth, strings.Join(topsOf(d.Paths), ", ")),
		Fix: fmt.Sprintf("find out who made them and remove what is not Go's: ls -la %s", strings.Join(quoteAll(cache.Path, topsOf(d.Paths)), " "))}}
}

// topsOf is the first path element of each path.
func topsOf(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = strings.SplitN(p, "/", 2)[0]
	}
	return out
}
