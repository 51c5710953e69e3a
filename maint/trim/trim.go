// Package trim keeps a cache within its size and age limits by removing
// what was used least recently, in the units Go itself uses: build-cache
// entries, and module versions, toolchains and VCS checkouts.
//
// A trim takes two passes and no sorted list of paths: the first builds a
// histogram of bytes by age since last use, in buckets about 3% of the age
// wide, from which the cutoff follows (refined within one bucket when a
// size trim ends inside it, refine.go); the second streams over the cache
// and removes what is older.
// Memory is the histogram plus one directory listing per worker, whatever
// the number of entries.
//
// Rules every trim keeps (docs/design.md, safety 4 and 5):
//   - only what Go's layout defines is removed (see package layout);
//   - nothing used within min_age (at least an hour) is removed;
//   - a module version is removed only with its download lock held, marked
//     partial first, exactly as go's own protocol expects;
//   - every removal goes through package safefs.
package trim

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
)

// Policy is what a target asks of a trim.
type Policy struct {
	MaxSize, LowWater int64
	MaxAge, MinAge    time.Duration
	// MinFree is the free-space floor of the cache's file system.
	MinFree config.Floor
	// Module cache only.
	KeepToolchains  int
	ToolchainMaxAge time.Duration
	VCSMaxAge       time.Duration
}

// PolicyOf turns a configured target into a policy (with a command line's
// overrides: config.Target.Overridden).
func PolicyOf(t config.Target) Policy {
	return Policy{
		MaxSize: int64(t.MaxSize), LowWater: t.EffectiveLowWater(),
		MaxAge: time.Duration(t.MaxAge), MinAge: time.Duration(t.MinAge), MinFree: t.MinFree.Or(t.Kind),
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
	if !p.MinFree.Off() {
		parts = append(parts, "min_free "+p.MinFree.String())
	}
	parts = append(parts, "min_age "+config.FormatDuration(p.MinAge))
	return strings.Join(parts, ", ")
}

// Removal is one unit removed (or, in a dry run, to be removed).
type Removal struct {
	Path      string `json:"path"` // relative to the cache root
	Unit      string `json:"unit"` // action, output, executable, module, toolchain, vcs
	DiskBytes int64  `json:"disk_bytes"`
	Files     int64  `json:"files"`
	LastUsed  int64  `json:"last_used_unix"`
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
	DryRun     bool   `json:"dry_run"`
	Policy     string `json:"policy"`
	CutoffUnix int64  `json:"cutoff_unix"` // entries last used before this went; 0 if none
	// The cache's disk usage (st_blocks*512) before and after, and the
	// disk space its removals freed: a limit is on disk usage.
	DiskBytesBefore int64 `json:"disk_bytes_before"`
	DiskBytesAfter  int64 `json:"disk_bytes_after"`
	FreedBytes      int64 `json:"freed_bytes"`
	Files           int64 `json:"files"`
	Units           int64 `json:"units"`
	Versions        int64 `json:"versions"` // module versions (toolchains included)
	Skipped         int64 `json:"skipped"`  // units left because go holds their lock
	Failed          int64 `json:"failed"`   // units whose removal failed
	// TooDeep counts units nested deeper than scan.MaxSubtreeDepth: their
	// size is a lower bound; they are removed whole all the same.
	TooDeep     int64  `json:"too_deep,omitempty"`
	FirstError  string `json:"first_error,omitempty"`
	Blocked     string `json:"blocked,omitempty"` // why the limit was not reached
	AtimeNote   string `json:"atime_note,omitempty"`
	DurationMS  int64  `json:"duration_ms"`
	WithinLimit bool   `json:"within_limit"`
	// Why units went: max_age, max_size, min_free, interrupted (module
	// versions left half removed), comma-separated.
	Reason string `json:"reason,omitempty"`
	// FreeBefore is the free space of the file system when the trim began
	// (what unprivileged users may use); MinFree its floor in bytes.
	FreeBefore int64 `json:"free_bytes_before"`
	MinFree    int64 `json:"min_free_bytes,omitempty"`
}

// space is what a trim needs from a file system: its floor, free space
// and how far below the floor it is.
type space struct{ floor, free, deficit int64 }

func spaceOf(f config.Floor, fs *unix.Statfs_t) space {
	unit := fs.Frsize
	if unit <= 0 {
		unit = fs.Bsize
	}
	s := space{free: int64(fs.Bavail) * unit}
	if !f.Off() {
		s.floor = f.Of(int64(fs.Blocks) * unit)
		s.deficit = max(s.floor-s.free, 0)
	}
	return s
}

// FreeDeficit is how many bytes must be freed on the file system fs for
// the floor f to hold: 0 when it holds or there is none. The daemon asks
// it (through clean.MustFree) to start a trim when space runs out.
func FreeDeficit(f config.Floor, fs *unix.Statfs_t) int64 { return spaceOf(f, fs).deficit }

// begin notes the space and the reasons of a trim in its result.
func (r *Result) begin(sp space, total int64, p Policy, extra ...string) {
	r.FreeBefore, r.MinFree = sp.free, sp.floor
	var why []string
	if p.MaxAge > 0 {
		why = append(why, "max_age")
	}
	if p.MaxSize > 0 && total > p.MaxSize {
		why = append(why, "max_size")
	}
	if sp.deficit > 0 {
		why = append(why, "min_free")
	}
	r.Reason = strings.Join(append(why, extra...), ",")
}

// end sums up whether the trim met its limits.
func (r *Result) end(sp space, p Policy) {
	r.DiskBytesAfter = r.DiskBytesBefore - r.FreedBytes
	r.WithinLimit = (p.MaxSize == 0 || r.DiskBytesAfter <= p.MaxSize) && sp.free+r.FreedBytes >= sp.floor
}

func (r *Result) removed(rm Removal, opt *Options) {
	r.FreedBytes += rm.DiskBytes
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

// Add sums the removals of o into r: what they freed and counted, and
// the first error. Figures of the cache (sizes, cutoff, policy) stay r's.
func (r *Result) Add(o *Result) {
	r.FreedBytes += o.FreedBytes
	r.Files += o.Files
	r.Units += o.Units
	r.Versions += o.Versions
	r.Skipped += o.Skipped
	r.Failed += o.Failed
	r.TooDeep += o.TooDeep
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
}

// histogram counts bytes (and units) by age since last use, in buckets
// about 3% of the age wide: a nanosecond apart near zero, days apart after
// a year. So a cutoff lands as precisely in the first second as in the
// first month, and the whole histogram is 30 KiB whatever the number of
// entries. Where a size trim ends inside a bucket, a finer pass over just
// that bucket's ages (refine.go) finds the exact cutoff.
type histogram struct {
	bytes, count [nBuckets]int64
}

// subBits is the resolution: 2^subBits buckets per doubling of the age.
const (
	subBits  = 5
	nBuckets = (64 - subBits) << subBits
)

// bucketOf returns the bucket of an age; negative ages (clock skew, an
// entry written after the trim began) count as zero.
func bucketOf(age time.Duration) int {
	if age < 1<<subBits {
		return int(max(age, 0))
	}
	e := bits.Len64(uint64(age)) - 1 - subBits
	return (e+1)<<subBits | int(uint64(age)>>e&(1<<subBits-1))
}

// lowerBound is the youngest age in bucket b.
func lowerBound(b int) time.Duration {
	if b < 1<<subBits {
		return time.Duration(b)
	}
	e := b>>subBits - 1
	return time.Duration((1<<subBits | uint64(b&(1<<subBits-1))) << e)
}

func (h *histogram) add(age time.Duration, bytes int64) {
	b := bucketOf(age)
	h.bytes[b] += bytes
	h.count[b]++
}

func (h *histogram) merge(o *histogram) {
	for i := range o.bytes {
		h.bytes[i] += o.bytes[i]
		h.count[i] += o.count[i]
	}
}

// noCutoff means nothing is old enough to go.
const noCutoff = time.Duration(math.MaxInt64)

// boundary is the range of ages in which a size trim ends, when taking it
// whole would remove more than one unit too many; need is what the trim
// still needs from it.
type boundary struct {
	lo, hi time.Duration
	need   int64
}

// plan returns the age from which units are removed (those at least that
// old go), why a size limit cannot be met when it cannot, and the bucket
// to refine when a size trim ends inside one. The cutoff is never below
// min_age.
//
// A size trim runs above max_size, down to low_water, and below the
// free-space floor, until deficit bytes are freed: whichever needs more.
func plan(h *histogram, total, deficit int64, p Policy) (cutoff time.Duration, blocked string, bd *boundary) {
	cutoff = noCutoff
	if p.MaxAge > 0 {
		cutoff = max(p.MinAge, p.MaxAge)
	}
	need := deficit
	if p.MaxSize > 0 && total > p.MaxSize {
		need = max(need, total-p.LowWater)
	}
	if need <= 0 {
		return cutoff, "", nil
	}
	var sum int64
	for b := nBuckets - 1; b >= 0 && lowerBound(b) >= p.MinAge; b-- {
		// Units an age trim removes anyway count towards the size too.
		sum += h.bytes[b]
		if sum >= need {
			size := lowerBound(b)
			if size < cutoff && h.count[b] > 1 && sum > need && b < nBuckets-1 {
				bd = &boundary{lo: size, hi: lowerBound(b + 1), need: need - (sum - h.bytes[b])}
			}
			return min(cutoff, size), "", bd
		}
	}
	// Everything at least min_age old goes, and that is not enough.
	return min(cutoff, p.MinAge), fmt.Sprintf("min_age: only %s is older than %s; the rest was used more recently",
		config.FormatSize(sum), config.FormatDuration(p.MinAge)), nil
}

// cutoffTime is the newest last-use time (Unix seconds) that a cutoff
// removes; 0 when it removes nothing.
func cutoffTime(now time.Time, cutoff time.Duration) int64 {
	if cutoff == noCutoff {
		return 0
	}
	return now.Add(-cutoff).Unix()
}

// ancient is the age of a unit dated in the future once min_age has
// passed since it was dated: older than anything, so it goes first.
const ancient = noCutoff - 1

// futureSlack is how far ahead of the clock a time may be and still count
// as now: the clocks of machines sharing a cache differ by seconds.
const futureSlack = time.Minute

// lruAge is the age by which LRU ranks a unit last used at used, a time
// set at dated (its ctime, by the kernel's clock); all in Unix
// nanoseconds. A last use in the future (a clock that jumped, an archive
// restored) is one go never refreshes: it refreshes only what is an hour
// old. Such a unit counts as used now for min_age after it was dated, so
// that a build using it right now keeps it, then as the oldest. When even
// dated is in the future, the clock itself went back and nothing tells
// when the unit was used: it counts as now, and the audit reports it.
func lruAge(now, used, dated int64, minAge time.Duration) time.Duration {
	if a := time.Duration(now - used); a >= -futureSlack {
		return a
	}
	if time.Duration(now-dated) < minAge {
		return 0
	}
	return ancient
}

// ns is a statx timestamp in Unix nanoseconds.
func ns(ts unix.StatxTimestamp) int64 { return ts.Sec*1e9 + int64(ts.Nsec) }
