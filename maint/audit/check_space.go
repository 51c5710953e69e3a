package audit

import (
	"fmt"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
)

func init() { register(checkLimit); register(checkDisk) }

var (
	overLimit = finding.Declare(finding.Decl{Name: "OVER_LIMIT", Lowest: finding.Warning, Highest: finding.Warning,
		ID: "17d5fc46d2b14504991af9669a3f101c", Event: "finding",
		Summary: "the cache uses more disk than its max_size"})
	lowDisk = finding.Declare(finding.Decl{Name: "LOW_DISK", Lowest: finding.Warning, Highest: finding.Warning,
		ID: "d5a5892dad6748109f0de797bfa009ea", Event: "finding",
		Summary: "free space on the cache's file system below low_disk_percent"})
	inodePressure = finding.Declare(finding.Decl{Name: "INODE_PRESSURE", Lowest: finding.Warning, Highest: finding.Warning,
		ID: "d2170557466c4226ba517a1d9974b115", Event: "finding",
		Summary: "free inodes on the cache's file system below low_inodes_percent"})
)

// checkLimit: the cache takes more disk than its configured max_size.
func checkLimit(c *Context, cache *Cache) []Finding {
	limit := int64(cache.Target.MaxSize)
	if !scanned(cache) || limit == 0 || cache.Facts.DiskBytes <= limit {
		return nil
	}
	return []Finding{{Code: overLimit, Severity: finding.Warning, DiskBytes: cache.Facts.DiskBytes - limit,
		Detail: fmt.Sprintf("uses %s on disk, over its max_size of %s by %s",
			config.FormatSize(cache.Facts.DiskBytes), config.FormatSize(limit), config.FormatSize(cache.Facts.DiskBytes-limit)),
		Fix: fmt.Sprintf("raise max_size of target %q, or free space now with %s", cache.Target.Name, cleanCommand(cache))}}
}

// checkDisk: the cache's file system is short of space or inodes.
func checkDisk(c *Context, cache *Cache) []Finding {
	if !scanned(cache) {
		return nil
	}
	fs, t := cache.FS, cache.Target
	var out []Finding
	if fs.TotalBytes > 0 {
		pct := 100 * float64(fs.FreeBytes) / float64(fs.TotalBytes)
		if pct < t.LowDiskPercent {
			out = append(out, Finding{Code: lowDisk, Severity: finding.Warning, Path: fs.MountPoint, FreeBytes: fs.FreeBytes,
				Detail: fmt.Sprintf("only %s (%.1f%%) free on %s, below low_disk_percent %g: builds fail when it fills",
					config.FormatSize(fs.FreeBytes), pct, fs.MountPoint, t.LowDiskPercent),
				Fix: fmt.Sprintf("free space on %s, e.g. %s, or set max_size for target %q", fs.MountPoint, cleanCommand(cache), t.Name)})
		}
	}
	if fs.TotalInodes > 0 { // btrfs and others report no inode limit
		pct := 100 * float64(fs.FreeInodes) / float64(fs.TotalInodes)
		if pct < t.LowInodesPercent {
			out = append(out, Finding{Code: inodePressure, Severity: finding.Warning, Path: fs.MountPoint, Count: fs.FreeInodes,
				Detail: fmt.Sprintf("only %d inodes (%.1f%%) free on %s, below low_inodes_percent %g: go cannot create files when they run out",
					fs.FreeInodes, pct, fs.MountPoint, t.LowInodesPercent),
				Fix: fmt.Sprintf("remove files on %s, e.g. %s; this cache holds %d files", fs.MountPoint, cleanCommand(cache), cache.Facts.Files)})
		}
	}
	return out
}

// cleanCommand is the command that frees a cache's space today.
func cleanCommand(cache *Cache) string {
	if cache.Target.Kind == "mod" {
		return fmt.Sprintf("`GOMODCACHE=%s go clean -modcache` (removes every module)", shellQuote(cache.Path))
	}
	return fmt.Sprintf("`GOCACHE=%s go clean -cache` (removes every build result)", shellQuote(cache.Path))
}
