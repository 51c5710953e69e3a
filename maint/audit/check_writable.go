package audit

import (
	"fmt"
	"path"
	"strings"

	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/safetext"
)

func init() { register(checkWritable) }

var cacheNotWritable = finding.Declare(finding.Decl{Name: "CACHE_NOT_WRITABLE", Lowest: finding.Error, Highest: finding.Error,
	ID: "3ea2f6207f934d12812365b8892960db", Event: "finding",
	Summary: "the cache's owner (or group) cannot create or rewrite what go writes"})

// checkWritable: the cache owner must be able to create entries, and to
// rewrite the files go rewrites. An unwritable trim.txt is called out on its
// own: once a trim is due, Go up to 1.25 fails every build with "go: failed
// to trim cache"; Go 1.26 ignores the error but can never record the trim,
// so every go command walks all 256 shards again.
func checkWritable(c *Context, cache *Cache) []Finding {
	if !scanned(cache) {
		return nil
	}
	owner := userName(cache.Owner)
	if cache.FS.Has("ro") {
		return []Finding{{Code: cacheNotWritable, Severity: finding.Error,
			Detail: fmt.Sprintf("%s is on a read-only mount (%s): go cannot add entries", cache.Path, cache.FS.MountPoint),
			Fix:    fmt.Sprintf("remount %s read-write, or move %s to a writable file system", cache.FS.MountPoint, envName(cache))}}
	}
	var out []Finding
	fix := fmt.Sprintf("sudo chown -R %s: %s && chmod u+w %s", owner, cache.Path, strings.Join(quoteAll(cache.Path, cache.Facts.NotWritable.Paths), " "))
	if cache.Group != nil {
		owner, fix = "group "+cache.Group.Name, fmt.Sprintf("sudo gomaint fix --system --target %s", cache.Target.Name)
		if ns := cache.Facts.NoSetgid; ns.Count > 0 {
			out = append(out, Finding{Code: cacheNotWritable, Severity: finding.Error, Path: path.Join(cache.Path, ns.Paths[0]), Count: ns.Count,
				Detail: fmt.Sprintf("%d directories of this shared cache lack the setgid bit (e.g. %s): what one member creates there, the others cannot write",
					ns.Count, strings.Join(ns.Paths, ", ")),
				Fix: fix})
		}
	}
	nw := cache.Facts.NotWritable
	if nw.Count == 0 {
		return out
	}
	for _, p := range nw.Paths {
		if p == "trim.txt" {
			out = append(out, Finding{Code: cacheNotWritable, Severity: finding.Error, Path: path.Join(cache.Path, p), Count: 1,
				Detail: fmt.Sprintf("trim.txt is not writable by %s: once a daily trim is due, every build fails with \"go: failed to trim cache: ... permission denied\" (Go 1.25 and older), or re-scans the whole cache because the trim cannot be recorded (Go 1.26 and newer)", owner),
				Fix:    fix})
		}
	}
	out = append(out, Finding{Code: cacheNotWritable, Severity: finding.Error, Path: path.Join(cache.Path, nw.Paths[0]), Count: nw.Count,
		Detail: fmt.Sprintf("%d directories or files that go writes are not writable by %s (e.g. %s): builds fail with \"permission denied\"",
			nw.Count, owner, strings.Join(nw.Paths, ", ")),
		Fix: fix})
	return out
}

func quoteAll(root string, rel []string) []string {
	out := make([]string, len(rel))
	for i, r := range rel {
		out[i] = shellQuote(path.Join(root, r))
	}
	return out
}

// shellQuote quotes a path for a copy-and-paste command line; a name with
// control characters gets $'...', which reads the same once escaped.
func shellQuote(s string) string { return safetext.ShellQuote(s) }
