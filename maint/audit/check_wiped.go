package audit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/tmpfiles"
)

func init() { register(checkWiped) }

// CacheWiped is raised by the audit from the daemon's saved status, and
// by the daemon the moment it sees a watched cache go.
var CacheWiped = finding.Declare(finding.Decl{Name: "CACHE_WIPED", Lowest: finding.Warning, Highest: finding.Warning,
	ID: "eb647ee53a1f42d1ae37b7367352ff56", Event: "finding",
	Summary: "the cache lost most of its content, or was made anew, and gomaint did not remove it: builds start from nothing"})

// MinWipedFiles: a cache smaller than this was hardly in use, and losing
// it is no news.
const MinWipedFiles = 64

// RootID tells one cache root from another made at the same path: inode
// and device, and birth time where the file system records one (an inode
// number can be reused).
type RootID struct {
	Ino       uint64 `json:"ino"`
	Dev       uint64 `json:"dev"`
	BirthUnix int64  `json:"birth_unix,omitempty"`
}

// RootOf identifies the directory open at fd ("" path) or at path.
func RootOf(fd int, path string) (RootID, bool) {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if path == "" {
		flags = unix.AT_EMPTY_PATH
	}
	var st unix.Statx_t
	if unix.Statx(fd, path, flags, unix.STATX_INO|unix.STATX_BTIME, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return RootID{}, false
	}
	id := RootID{Ino: st.Ino, Dev: unix.Mkdev(st.Dev_major, st.Dev_minor)}
	if st.Mask&unix.STATX_BTIME != 0 {
		id.BirthUnix = st.Btime.Sec
	}
	return id, true
}

// BootID is this boot's random id; "" when unreadable.
func BootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}

// Wipe is what is known of one wipe of a cache.
type Wipe struct {
	After, Before time.Time // it happened between these
	How           string    // what was seen, e.g. "the directory was made anew"
	LostBytes     int64     // disk bytes gone, as last counted
	LostFiles     int64
	BootChanged   bool // the machine booted in between
}

// WipeFinding is the CACHE_WIPED finding for w of the cache at path, with
// the causes gomaint can see: a volatile file system, a tmpfiles.d rule
// that cleans it, a reboot; else an explicit removal.
func WipeFinding(w Wipe, name, path string, scope config.Scope, rules func() ([]tmpfiles.Rule, error)) Finding {
	var causes []string
	fix := "find what removes it (rm -rf, go clean -cache in a script or CI job) and stop it; max_size keeps the cache bounded without emptying it"
	// A volatile mount or a boot-time rule empties the cache only at a
	// boot; an aging rule at any time.
	if fs, _, err := scan.NearestFS(path); err == nil && fs.Volatile() && w.BootChanged {
		causes = append(causes, fmt.Sprintf("it is on %s (mounted at %s), emptied at every reboot", fs.Type, fs.MountPoint))
		fix = "move the cache to persistent storage (gomaint audit's CACHE_VOLATILE says how)"
	}
	if rules != nil {
		if rs, err := rules(); err == nil {
			if v := tmpfiles.Judge(rs, path); !v.Protected() && (!v.AtBoot || w.BootChanged) {
				r := v.Cleaner
				causes = append(causes, fmt.Sprintf("tmpfiles.d rule %s:%d (%s %s %s) cleans it", r.File, r.Line, r.Type, r.Path, r.Age))
				fix = map[bool]string{true: "sudo gomaint protect --system", false: "gomaint protect"}[scope == config.System]
			}
		}
	}
	if w.BootChanged {
		causes = append(causes, "the machine booted in between (the boot id changed)")
	}
	if len(causes) == 0 {
		causes = append(causes, "an explicit removal (rm -rf, go clean -cache, a script or CI job)")
	}
	return Finding{Code: CacheWiped, Severity: finding.Warning, Cache: name, Path: path,
		Detail: fmt.Sprintf("%s between %s and %s, losing about %s in %d files; gomaint did not remove it; likely cause: %s",
			w.How, w.After.Format(time.DateTime), w.Before.Format(time.DateTime), config.FormatSize(w.LostBytes), w.LostFiles, strings.Join(causes, "; ")),
		Fix: fix, DiskBytes: w.LostBytes, Count: w.LostFiles}
}

// savedStatus is what the daemon's status.json says of each cache that a
// wipe can be told by (the daemon writes it; see daemon.Status).
type savedStatus struct {
	Updated time.Time `json:"updated"`
	BootID  string    `json:"boot_id"`
	Targets []struct {
		Name      string  `json:"name"`
		Path      string  `json:"path"`
		DiskBytes int64   `json:"disk_bytes"`
		Files     int64   `json:"files"`
		Root      *RootID `json:"root"`
	} `json:"targets"`
}

// loadSaved reads the daemon's saved status from dir; nil when there is
// none, or it cannot be read (then nothing is compared).
func loadSaved(dir string) *savedStatus {
	data, err := os.ReadFile(filepath.Join(dir, "status.json"))
	if err != nil {
		return nil
	}
	var s savedStatus
	if json.Unmarshal(data, &s) != nil {
		return nil
	}
	return &s
}

// checkWiped compares a cache with what the daemon saved of it last: gone,
// made anew, or down to a tenth of its files (and not by go's own trim,
// which rewrites trim.txt).
func checkWiped(c *Context, cache *Cache) []Finding {
	if c.Saved == nil || cache.Path == "" {
		return nil
	}
	s := c.Saved()
	if s == nil {
		return nil
	}
	for _, t := range s.Targets {
		if t.Name != cache.Target.Name || t.Path != cache.Path || t.Files < MinWipedFiles {
			continue
		}
		w := Wipe{After: s.Updated, Before: c.Now, LostBytes: t.DiskBytes, LostFiles: t.Files}
		now, ok := RootOf(unix.AT_FDCWD, cache.Path)
		switch {
		case !cache.Exists || !ok:
			w.How = "the cache directory was removed"
		case t.Root != nil && (now.Ino != t.Root.Ino || now.Dev != t.Root.Dev || now.BirthUnix != t.Root.BirthUnix):
			w.How = "the cache directory was made anew"
			if now.BirthUnix > 0 {
				w.Before = time.Unix(now.BirthUnix, 0)
			}
		case cache.Facts != nil && cache.Facts.Files*10 < t.Files && !goTrimmedSince(cache, s.Updated):
			w.How = fmt.Sprintf("the cache went from %d files to %d", t.Files, cache.Facts.Files)
			w.LostBytes, w.LostFiles = max(t.DiskBytes-cache.Facts.DiskBytes, 0), t.Files-cache.Facts.Files
		default:
			return nil
		}
		w.BootChanged = s.BootID != "" && BootID() != "" && s.BootID != BootID()
		return []Finding{WipeFinding(w, cache.Target.Name, cache.Path, c.Scope, c.Tmpfiles)}
	}
	return nil
}

// goTrimmedSince: go's own trim (entries unused for 5 days) ran since t.
func goTrimmedSince(cache *Cache, t time.Time) bool {
	st, err := os.Stat(filepath.Join(cache.Path, "trim.txt"))
	return cache.Target.Kind == config.Build && err == nil && st.ModTime().After(t)
}
