// Package facts gathers, in one read-only walk, everything the audit checks
// know about a cache: sizes, counts, ages, owners, Go-layout counts,
// writability, and what the walk could not enter. Memory stays bounded:
// counters, a few sample paths, and one record per owner and per toolchain.
package facts

import (
	"bytes"
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/layout"
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

func (s *Sample) merge(o Sample) {
	s.Count += o.Count
	s.ApparentBytes += o.ApparentBytes
	for _, p := range o.Paths {
		if len(s.Paths) < MaxSamples {
			s.Paths = append(s.Paths, p)
		}
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
	OldestUnix int64   `json:"oldest_unix"`
	NewestUnix int64   `json:"newest_unix"`
	Ages       []int64 `json:"age_files"` // files per AgeLabels bucket, by mtime
	Layout     Layout  `json:"layout"`

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

func (f *Facts) merge(o *Facts) {
	f.ApparentBytes += o.ApparentBytes
	f.DiskBytes += o.DiskBytes
	f.Files += o.Files
	f.Dirs += o.Dirs
	f.Symlinks += o.Symlinks
	f.Others += o.Others
	if o.OldestUnix != 0 && (f.OldestUnix == 0 || o.OldestUnix < f.OldestUnix) {
		f.OldestUnix = o.OldestUnix
	}
	f.NewestUnix = max(f.NewestUnix, o.NewestUnix)
	for i, n := range o.Ages {
		f.Ages[i] += n
	}
	l, m := &f.Layout, o.Layout
	l.Actions += m.Actions
	l.Outputs += m.Outputs
	l.ExecDirs += m.ExecDirs
	l.Versions += m.Versions
	l.Downloads += m.Downloads
	l.Toolchains += m.Toolchains
	l.VCSDirs += m.VCSDirs
	l.Transient += m.Transient
	for uid, w := range o.Owners {
		x := f.Owners[uid]
		if x == nil {
			f.Owners[uid] = w
			continue
		}
		x.Entries += w.Entries
		x.ApparentBytes += w.ApparentBytes
		if x.Example == "" {
			x.Example = w.Example
		}
	}
	for name, t := range o.Toolchains {
		x := f.Toolchains[name]
		if x == nil {
			f.Toolchains[name] = t
			continue
		}
		x.ApparentBytes += t.ApparentBytes
		x.LastUsed = max(x.LastUsed, t.LastUsed)
	}
	f.Unexpected.merge(o.Unexpected)
	f.StaleTmp.merge(o.StaleTmp)
	f.NotWritable.merge(o.NotWritable)
	f.WorldWrite.merge(o.WorldWrite)
	f.ForeignGroup.merge(o.ForeignGroup)
	f.NoSetgid.merge(o.NoSetgid)
	f.Unreadable.merge(o.Unreadable)
	f.OtherMounts.merge(o.OtherMounts)
	f.TooDeep.merge(o.TooDeep)
	f.DeepTrees.merge(o.DeepTrees)
	f.HalfRemoved.merge(o.HalfRemoved)
	f.Future.merge(o.Future)
	f.FutureMax = max(f.FutureMax, o.FutureMax)
}

// visitor is one worker's share of a walk.
type visitor struct {
	opt  *Options
	now  int64
	f    *Facts
	mine *Owner // the writer's own totals
}

func (v *visitor) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	f, st := v.f, e.Stat
	f.DiskBytes += e.Blocks()
	var size int64
	switch e.Type() {
	case unix.S_IFREG:
		size = int64(st.Size)
		f.Files++
		f.ApparentBytes += size
		m := e.Mtime()
		if f.OldestUnix == 0 || m < f.OldestUnix {
			f.OldestUnix = m
		}
		f.NewestUnix = max(f.NewestUnix, m)
		f.Ages[ageBucket(v.now-m)]++
	case unix.S_IFDIR:
		f.Dirs++
	case unix.S_IFLNK:
		f.Symlinks++
	default:
		f.Others++
	}
	v.odd(d, e)
	kind, class := layout.Entry(d, e.Name, e.IsDir(), v.opt.Build)
	if e.IsLink() && kind != layout.Surprise {
		kind = layout.Surprise // go never puts a symbolic link in a cache
	}
	v.layout(d, e, kind, size)
	if st.Uid != v.opt.Writer.UID {
		f.owner(st.Uid, size, d.Join(e.Name))
	} else {
		if v.mine == nil { // the common case, without a map lookup per entry
			f.owner(st.Uid, 0, "")
			f.Owners[st.Uid].Entries--
			v.mine = f.Owners[st.Uid]
		}
		v.mine.Entries++
		v.mine.ApparentBytes += size
	}
	if e.Perm()&0o002 != 0 && !e.IsLink() {
		f.WorldWrite.Add(d.Join(e.Name), 0)
	}
	if v.opt.Shared && !e.IsLink() {
		if st.Gid != v.opt.Group {
			f.ForeignGroup.Add(d.Join(e.Name), size)
		}
		if e.IsDir() && layout.MustBeWritable(class) && st.Mode&unix.S_ISGID == 0 {
			f.NoSetgid.Add(d.Join(e.Name), 0)
		}
	}
	if (e.IsDir() && layout.MustBeWritable(class) && kind != layout.Surprise) ||
		(e.IsFile() && layout.RewrittenFile(d.Class, e.Name)) {
		if !writable(st, v.opt.Writer) {
			f.NotWritable.Add(d.Join(e.Name), 0)
		}
	}
	return class
}

func (v *visitor) layout(d *scan.Dir, e *scan.Entry, kind layout.Kind, size int64) {
	l := &v.f.Layout
	switch kind {
	case layout.Surprise:
		v.f.Unexpected.Add(d.Join(e.Name), size)
	case layout.Transient:
		l.Transient++
		if v.now-e.Mtime() > 3600 { // go finishes or removes these within minutes
			v.f.StaleTmp.Add(d.Join(e.Name), size)
		}
	case layout.ActionEntry:
		l.Actions++
	case layout.OutputEntry:
		l.Outputs++
	case layout.ExecEntry:
		l.ExecDirs++
	case layout.VersionDir:
		l.Versions++
	case layout.ToolchainDir:
		l.Toolchains++
		v.toolchain(string(e.Name)).LastUsed = max(v.toolchain(string(e.Name)).LastUsed, e.Mtime())
	case layout.ModFile:
		l.Downloads++
	case layout.VCSDir:
		l.VCSDirs++
	}
	if name, ok := layout.ToolchainName(d.Path, e.Name, d.Class); ok && e.IsFile() {
		t := v.toolchain(name)
		t.ApparentBytes += size
		if d.Class == layout.Toolchain {
			t.LastUsed = max(t.LastUsed, e.Atime())
		}
	}
}

// futureSlack is how far ahead of the clock a timestamp may be before it
// counts as in the future: clocks of a few machines sharing a cache differ.
const futureSlack = 60

// odd notes what a trim cannot judge by itself: future timestamps,
// interrupted module removals and over-deep trees.
func (v *visitor) odd(d *scan.Dir, e *scan.Entry) {
	st := e.Stat
	if t := max(st.Mtime.Sec, v.atimeIfMod(st)); t > v.now+futureSlack {
		v.f.Future.Add(d.Join(e.Name), 0)
		v.f.FutureMax = max(v.f.FutureMax, t)
	}
	if e.IsDir() && d.Depth == scan.MaxSubtreeDepth {
		v.f.DeepTrees.Add(d.Join(e.Name), 0)
	}
	if d.Class == layout.AtV && e.IsFile() && bytes.HasSuffix(e.Name, []byte(".partial")) && v.now-e.Mtime() > 3600 {
		v.f.HalfRemoved.Add(layout.VersionOfDownload(d.Path, string(e.Name)), 0)
	}
}

// atimeIfMod is the atime of a module cache's regular file (the last use
// a module trim goes by), else 0.
func (v *visitor) atimeIfMod(st *unix.Statx_t) int64 {
	if v.opt.Build || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0
	}
	return st.Atime.Sec
}

func (v *visitor) toolchain(name string) *Toolchain {
	t := v.f.Toolchains[name]
	if t == nil {
		t = &Toolchain{}
		v.f.Toolchains[name] = t
	}
	return t
}

func (v *visitor) Report(d *scan.Dir, name []byte, p scan.Problem, err error) {
	path := d.Path
	if name != nil {
		path = d.Join(name)
	}
	if path == "" {
		path = "."
	}
	switch p {
	case scan.OtherMount:
		v.f.OtherMounts.Add(path, 0)
	case scan.TooDeep:
		v.f.TooDeep.Add(path, 0)
	default:
		v.f.Unreadable.Add(path+": "+errText(err), 0)
	}
}

func errText(err error) string {
	if err == nil {
		return "unreadable"
	}
	return err.Error()
}

func ageBucket(age int64) int {
	for i, b := range AgeBuckets {
		if age < int64(b/time.Second) {
			return i
		}
	}
	return len(AgeBuckets)
}

// writable reports whether id may create entries in (or rewrite) the entry,
// by its mode bits. Root may write anything. POSIX ACLs are not consulted:
// for a private cache the mode bits decide.
func writable(st *unix.Statx_t, id Identity) bool {
	if id.UID == 0 {
		return true
	}
	mode := uint32(st.Mode)
	if st.Uid == id.UID {
		return mode&0o200 != 0
	}
	for _, g := range id.GIDs {
		if g == st.Gid {
			return mode&0o020 != 0
		}
	}
	return mode&0o002 != 0
}
