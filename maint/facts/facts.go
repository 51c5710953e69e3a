// Package facts gathers, in one read-only walk, everything the audit checks
// know about a cache: sizes, counts, ages, owners, Go-layout counts,
// writability, and what the walk could not enter. Memory stays bounded:
// counters, a few sample paths, and one record per owner and per toolchain.
package facts

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/gomaint/gomaint/maint/scan"
)

// MaxSamples bounds the example paths kept for each kind of observation.
const MaxSamples = 5

// AgeBuckets are the upper bounds of the age histogram; a last bucket
// holds everything older.
var AgeBuckets = []time.Duration{
	time.Hour, 24 * time.Hour, 5 * 24 * time.Hour, 30 * 24 * time.Hour, 90 * 24 * time.Hour, 365 * 24 * time.Hour,
}

// AgeLabels name the buckets of AgeBuckets, plus the last one.
var AgeLabels = []string{"1h", "1d", "5d", "30d", "90d", "365d", "older"}

// Identity is whom a cache must be writable for.
type Identity struct {
	UID  uint32
	GIDs []uint32
}

// Sample counts occurrences and keeps the first few paths.
type Sample struct {
	Count         int64    `json:"count"`
	ApparentBytes int64    `json:"apparent_bytes,omitempty"` // st_size of the regular files among them
	Paths         []string `json:"paths,omitempty"`
}

func (s *Sample) Add(path string, apparentBytes int64) {
	s.Count++
	s.ApparentBytes += apparentBytes
	if len(s.Paths) < MaxSamples {
		s.Paths = append(s.Paths, path)
	}
}

// Owner totals what one uid owns in a cache.
type Owner struct {
	Entries       int64  `json:"entries"`
	ApparentBytes int64  `json:"apparent_bytes"` // st_size of its regular files
	Example       string `json:"example,omitempty"`
}

// Toolchain is one GOTOOLCHAIN download in a module cache.
type Toolchain struct {
	ApparentBytes int64 `json:"apparent_bytes"` // st_size of its files
	// LastUsed is the newest atime of its files: the kernel updates atime
	// when the toolchain runs (daily under relatime, never under noatime).
	LastUsed int64 `json:"last_used_unix"`
}

// Layout counts the entries Go's layout defines.
type Layout struct {
	// build cache
	Actions  int64 `json:"actions,omitempty"`
	Outputs  int64 `json:"outputs,omitempty"`
	ExecDirs int64 `json:"exec_dirs,omitempty"`
	// module cache
	Versions   int64 `json:"versions,omitempty"`
	Downloads  int64 `json:"downloads,omitempty"`
	Toolchains int64 `json:"toolchains,omitempty"`
	VCSDirs    int64 `json:"vcs_dirs,omitempty"`
	// either
	Transient int64 `json:"transient,omitempty"`
}

// Facts is what one walk of a cache found.
type Facts struct {
	ApparentBytes int64 `json:"apparent_bytes"` // sum of st_size of regular files
	DiskBytes     int64 `json:"disk_bytes"`     // sum of st_blocks*512 of every entry, the root included
	Files         int64 `json:"files"`
	Dirs          int64 `json:"dirs"` // the root included
	Symlinks      int64 `json:"symlinks"`
	Others        int64 `json:"others"` // devices, fifos, sockets
	// OldestUnix and NewestUnix are the extreme mtimes of regular files.
	OldestUnix int64 `json:"oldest_unix"`
	NewestUnix int64 `json:"newest_unix"`
	// OldestEntryUnix is the oldest mtime of a build cache entry (go's
	// last use of it; README and trim.txt are not entries); 0 if none.
	OldestEntryUnix int64   `json:"oldest_entry_unix,omitempty"`
	Ages            []int64 `json:"age_files"` // files per AgeLabels bucket, by mtime
	Layout          Layout  `json:"layout"`

	Owners      map[uint32]*Owner     `json:"owners"`
	Toolchains  map[string]*Toolchain `json:"-"`
	Unexpected  Sample                `json:"-"`
	StaleTmp    Sample                `json:"-"` // transient entries older than an hour
	NotWritable Sample                `json:"-"`
	WorldWrite  Sample                `json:"-"`
	Unreadable  Sample                `json:"-"`
	OtherMounts Sample                `json:"-"`
	// Shared caches: entries of another group, writable dirs without setgid.
	ForeignGroup Sample `json:"-"`
	NoSetgid     Sample `json:"-"`
	TooDeep      Sample `json:"-"`
	// DeepTrees: directories below scan.MaxSubtreeDepth levels, the first
	// level of each such branch; clean can measure their units only in part.
	DeepTrees Sample `json:"-"`
	// HalfRemoved: module versions whose @v/<version>.partial is over an
	// hour old, a removal or extraction that was interrupted.
	HalfRemoved Sample `json:"-"`
	// Future: entries whose mtime (or, in a module cache, atime) is ahead
	// of the clock; FutureMax is the latest such time.
	Future    Sample `json:"-"`
	FutureMax int64  `json:"-"`
}

// Options for Gather.
type Options struct {
	Build  bool // a build cache (else a module cache)
	Writer Identity
	// Shared: every entry should belong to Group, writable dirs setgid.
	Shared  bool
	Group   uint32
	Now     time.Time
	Workers int
	Entries *atomic.Int64 // progress counter, may be nil
}

// Gather walks the open cache root and returns its facts.
func Gather(ctx context.Context, rootFD int, root scan.Root, opt Options) (*Facts, error) {
	vs, err := scan.Walk(ctx, rootFD, root, scan.Options{Workers: opt.Workers, Entries: opt.Entries}, func() *visitor {
		return &visitor{opt: &opt, now: opt.Now.Unix(), f: newFacts()}
	})
	total := newFacts()
	// The root itself: a directory, counted like find(1) counts it.
	total.Dirs, total.DiskBytes = 1, int64(root.Stat.Blocks)*512
	total.owner(root.Stat.Uid, 0, "")
	if !writable(&root.Stat, opt.Writer) {
		total.NotWritable.Add(".", 0)
	}
	for _, v := range vs {
		total.merge(v.f)
	}
	return total, err
}

func newFacts() *Facts {
	return &Facts{Ages: make([]int64, len(AgeLabels)), Owners: map[uint32]*Owner{}, Toolchains: map[string]*Toolchain{}}
}

func (f *Facts) owner(uid uint32, apparentBytes int64, path string) {
	o := f.Owners[uid]
	if o == nil {
		o = &Owner{Example: path}
		f.Owners[uid] = o
	}
	o.Entries++
	o.ApparentBytes += apparentBytes
}
