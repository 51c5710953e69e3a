// Package trim keeps a cache within its size and age limits by removing
// what was used least recently, in the units Go itself uses: build-cache
// entries, and module versions, toolchains and VCS checkouts.
//
// A trim takes two passes and no sorted list of paths: the first builds a
// histogram of bytes by hours since last use, from which the cutoff
// follows; the second streams over the cache and removes what is older.
// Memory is the histogram plus one directory listing per worker, whatever
// the number of entries.
//
// Rules every trim keeps (DESIGN.md, safety 4 and 5):
//   - only what Go's layout defines is removed (see package layout);
//   - nothing used within min_age (at least an hour) is removed;
//   - a module version is removed only with its download lock held, marked
//     partial first, exactly as go's own protocol expects;
//   - every removal goes through package safefs.
package trim

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gomaint/gomaint/maint/config"
)

// Policy is what a target asks of a trim.
type Policy struct {
	MaxSize, LowWater int64
	MaxAge, MinAge    time.Duration
	// Module cache only.
	KeepToolchains  int
	ToolchainMaxAge time.Duration
	VCSMaxAge       time.Duration
}

// PolicyOf turns a configured target into a policy; overrides (from the
// command line) win when set.
func PolicyOf(t config.Target) Policy {
	return Policy{
		MaxSize: int64(t.MaxSize), LowWater: t.EffectiveLowWater(),
		MaxAge: time.Duration(t.MaxAge), MinAge: time.Duration(t.MinAge),
		KeepToolchains: t.KeepToolchains, ToolchainMaxAge: time.Duration(t.ToolchainMaxAge), VCSMaxAge: time.Duration(t.VCSMaxAge),
	}
}

func (p Policy) String() string {
	var parts []string
	if p.MaxSize > 0 {
		parts = append(parts, fmt.Sprintf("max_size %s (down to %s)", config.FormatSize(p.MaxSize), config.FormatSize(p.LowWater)))
	}
	if p.MaxAge > 0 {
		parts = append(parts, "max_age "+config.FormatDuration(p.MaxAge))
	}
	parts = append(parts, "min_age "+config.FormatDuration(p.MinAge))
	return strings.Join(parts, ", ")
}

// Removal is one unit removed (or, in a dry run, to be removed).
type Removal struct {
	Path     string `json:"path"` // relative to the cache root
	Unit     string `json:"unit"` // action, output, executable, module, toolchain, vcs
	Bytes    int64  `json:"bytes"`
	Files    int64  `json:"files"`
	LastUsed int64  `json:"last_used_unix"`
}

// Options of one trim run.
type Options struct {
	DryRun  bool
	Now     time.Time
	Workers int
	// Removed hears of every removal as it happens; it must be safe for
	// concurrent use. It may be nil.
	Removed func(Removal)
	// Entries, when set, counts entries examined, for a progress line.
	Entries *atomic.Int64
}

// Result sums up one trim.
type Result struct {
	DryRun      bool   `json:"dry_run"`
	Policy      string `json:"policy"`
	CutoffUnix  int64  `json:"cutoff_unix"` // entries last used before this went; 0 if none
	BytesBefore int64  `json:"bytes_before"`
	BytesAfter  int64  `json:"bytes_after"`
	FreedBytes  int64  `json:"freed_bytes"`
	Files       int64  `json:"files"`
	Units       int64  `json:"units"`
	Versions    int64  `json:"versions"` // module versions (toolchains included)
	Skipped     int64  `json:"skipped"`  // units left because go holds their lock
	Failed      int64  `json:"failed"`   // units whose removal failed
	FirstError  string `json:"first_error,omitempty"`
	Blocked     string `json:"blocked,omitempty"` // why the limit was not reached
	AtimeNote   string `json:"atime_note,omitempty"`
	DurationMS  int64  `json:"duration_ms"`
	WithinLimit bool   `json:"within_limit"`
}

func (r *Result) removed(rm Removal, opt *Options) {
	r.FreedBytes += rm.Bytes
	r.Files += rm.Files
	r.Units++
	if rm.Unit == "module" || rm.Unit == "toolchain" {
		r.Versions++
	}
	if opt.Removed != nil {
		opt.Removed(rm)
	}
}

func (r *Result) failed(path string, err error) {
	r.Failed++
	if r.FirstError == "" {
		r.FirstError = path + ": " + err.Error()
	}
}

func (r *Result) merge(o *Result) {
	r.FreedBytes += o.FreedBytes
	r.Files += o.Files
	r.Units += o.Units
	r.Versions += o.Versions
	r.Skipped += o.Skipped
	r.Failed += o.Failed
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
}

// maxHours bounds the histogram; anything older shares the last bucket.
const maxHours = 2 * 366 * 24

// histogram counts bytes by whole hours since last use.
type histogram [maxHours + 1]int64

func hoursSince(now, t int64) int {
	h := (now - t) / 3600
	if h < 0 {
		return 0
	}
	return int(min(h, maxHours))
}

func (h *histogram) add(now, lastUsed, bytes int64) { h[hoursSince(now, lastUsed)] += bytes }

func (h *histogram) merge(o *histogram) {
	for i, b := range o {
		h[i] += b
	}
}

// noCutoff means nothing is old enough to go.
const noCutoff = maxHours + 1

// plan returns the age in hours from which units are removed, and why a
// size limit cannot be met when it cannot.
func plan(h *histogram, total int64, p Policy) (cutoffHours int, blocked string) {
	minH := int((p.MinAge + time.Hour - 1) / time.Hour)
	cutoffHours = noCutoff
	if p.MaxAge > 0 {
		cutoffHours = max(minH, int((p.MaxAge+time.Hour-1)/time.Hour))
	}
	if p.MaxSize <= 0 || total <= p.MaxSize {
		return cutoffHours, ""
	}
	need := total - p.LowWater
	var sum int64
	for b := maxHours; b >= minH; b-- {
		// Units an age trim removes anyway count towards the size too.
		sum += h[b]
		if sum >= need {
			return min(cutoffHours, b), ""
		}
	}
	return min(cutoffHours, minH), fmt.Sprintf("min_age: only %s is older than %s; the rest was used more recently",
		config.FormatSize(sum), config.FormatDuration(p.MinAge))
}

// cutoffTime is the newest last-use time that a cutoff removes.
func cutoffTime(now int64, hours int) int64 {
	if hours >= noCutoff {
		return 0
	}
	return now - int64(hours)*3600
}
