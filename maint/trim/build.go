package trim

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/layout"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
)

// Build trims a build cache. Only "<hex>-a" and "<hex>-d" entries in the
// shards are removed, by their mtime, which go refreshes (at most hourly)
// whenever it uses an entry. README, trim.txt, testexpire.txt, fuzz/ and
// anything the layout does not define are never touched.
func Build(ctx context.Context, root *safefs.Root, p Policy, opt Options) (*Result, error) {
	start := time.Now()
	now := opt.Now.UnixNano()
	res := &Result{DryRun: opt.DryRun, Policy: p.String()}

	// Pass 1: bytes by age since last use.
	sroot, err := scan.RootOf(root.FD)
	if err != nil {
		return nil, err
	}
	vs, err := scan.Walk(ctx, root.FD, sroot, scan.Options{Workers: opt.Workers, Entries: opt.Entries}, func() *buildCounter {
		return &buildCounter{now: now, minAge: p.MinAge}
	})
	if err != nil {
		return nil, err
	}
	var h histogram
	res.DiskBytesBefore = int64(sroot.Stat.Blocks) * 512
	for _, v := range vs {
		h.merge(&v.hist)
		res.DiskBytesBefore += v.total
	}
	sp := spaceOf(p.MinFree, &sroot.FS)
	res.begin(sp, res.DiskBytesBefore, p)
	cutoff, blocked, bd := plan(&h, res.DiskBytesBefore, sp.deficit, p)
	cutoff, err = refine(cutoff, bd, func(w *window) (*window, error) {
		vs, err := scan.Walk(ctx, root.FD, sroot, scan.Options{Workers: opt.Workers}, func() *buildCounter {
			return &buildCounter{now: now, minAge: p.MinAge, win: w.empty()}
		})
		for _, v := range vs {
			w.merge(v.win)
		}
		return w, err
	})
	if err != nil {
		return nil, err
	}
	res.CutoffUnix, res.Blocked = cutoffTime(opt.Now, cutoff), blocked

	// Pass 2: remove what is older, shard by shard.
	if cutoff < noCutoff {
		if err := removeOld(ctx, root, cutoff, p.MinAge, now, res, &opt); err != nil {
			return res, err
		}
	}
	res.end(sp, p)
	res.DurationMS = time.Since(start).Milliseconds()
	return res, ctx.Err()
}

// buildCounter is one worker's share of pass 1, or of a refining pass
// when win is set.
type buildCounter struct {
	now    int64
	minAge time.Duration
	total  int64
	hist   histogram
	win    *window
}

func (c *buildCounter) add(age time.Duration, bytes int64) {
	if c.win != nil {
		c.win.add(age, bytes)
		return
	}
	c.hist.add(age, bytes)
}

func (c *buildCounter) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	b := e.Blocks()
	c.total += b
	kind, class := layout.Entry(d, e.Name, e.IsDir(), true)
	switch {
	case kind == layout.ActionEntry || kind == layout.OutputEntry || kind == layout.ExecEntry:
		c.add(lruAge(c.now, ns(e.Stat.Mtime), ns(e.Stat.Ctime), c.minAge), b)
	case d.Class == layout.ExecDir && e.IsFile():
		// A cached executable counts with its directory, whose mtime go
		// refreshes on use.
		var st unix.Statx_t
		if unix.Statx(d.FD(), "", unix.AT_EMPTY_PATH, unix.STATX_MTIME|unix.STATX_CTIME, &st) == nil {
			c.add(lruAge(c.now, ns(st.Mtime), ns(st.Ctime), c.minAge), b)
		}
	}
	return class
}

func (c *buildCounter) Report(*scan.Dir, []byte, scan.Problem, error) {}

// removeWorkers is how many shards pass 2 works on at once when Options
// sets no number. Removal waits on the device more than it computes: on
// ext4 mounted with discard, unlinkat waits for the discard of the blocks
// it frees. Trimming 59,000 of 105,000 entries on such a VM disk took 1
// worker 7,600 files/s, 4 workers 9,800/s, 16 12,800/s and 32 13,500/s
// (os.RemoveAll of every shard, as go clean does: 9,700/s). On ext4 in
// RAM, 16 workers finish 1.4 times sooner than 1 for 30% more CPU. It
// does not follow the number of CPUs: the workers wait, they do not
// compute. Memory is one getdents buffer each.
var removeWorkers = max(16, 4*runtime.GOMAXPROCS(0))

// removeOld streams over the 256 shards with a few workers and removes the
// entries last used cutoff ago or earlier (now is in Unix nanoseconds).
// Every worker checks ctx between two entries, so a cancelled trim stops
// within one removal per worker.
func removeOld(ctx context.Context, root *safefs.Root, cutoff, minAge time.Duration, now int64, res *Result, opt *Options) error {
	return removeShards(ctx, res, opt, func(r *Result) shardTrimmer {
		return shardTrimmer{root: root, cutoff: cutoff, minAge: minAge, now: now, res: r, opt: opt}
	})
}

// Keep tells Prune whether to keep a build-cache entry: kind is
// layout.ActionEntry, OutputEntry or ExecEntry, st its statx.
type Keep func(kind layout.Kind, name []byte, st *unix.Statx_t) bool

// Prune removes every action, output and executable entry of a build
// cache that keep does not keep, shard by shard, as a trim removes (and
// counts) old ones: `gomaint run --prune`. Nothing else is touched.
func Prune(ctx context.Context, root *safefs.Root, keep Keep, opt Options) (*Result, error) {
	start := time.Now()
	res := &Result{DryRun: opt.DryRun, Policy: "the run's working set"}
	err := removeShards(ctx, res, &opt, func(r *Result) shardTrimmer {
		return shardTrimmer{root: root, keep: keep, res: r, opt: &opt}
	})
	res.DurationMS = time.Since(start).Milliseconds()
	return res, err
}

// removeShards runs pass 2's workers, each trimmer made by mk.
func removeShards(ctx context.Context, res *Result, opt *Options, mk func(*Result) shardTrimmer) error {
	workers := opt.Workers
	if workers <= 0 {
		workers = removeWorkers
	}
	workers = min(workers, 256)
	var next atomic.Int32 // the next shard to take
	results := make([]Result, workers)
	var wg sync.WaitGroup
	for w := range results {
		wg.Add(1)
		go func(r *Result) {
			defer wg.Done()
			t := mk(r)
			t.ctx, t.done, t.buf = ctx, ctx.Done(), make([]byte, 32<<10)
			for s := int(next.Add(1) - 1); s < 256 && ctx.Err() == nil; s = int(next.Add(1) - 1) {
				t.shard(s)
			}
		}(&results[w])
	}
	wg.Wait()
	for i := range results {
		res.Add(&results[i])
	}
	return ctx.Err()
}

// shardTrimmer is one worker of pass 2.
type shardTrimmer struct {
	ctx    context.Context
	done   <-chan struct{}
	root   *safefs.Root
	cutoff time.Duration
	minAge time.Duration
	now    int64 // Unix nanoseconds
	keep   Keep  // when set, what to keep, in place of cutoff
	res    *Result
	opt    *Options
	buf    []byte // getdents buffer
	name   string // of the shard being trimmed
}

// shard trims one shard. The decision for each entry rests on the statx
// made just before its removal, never on pass 1: go may have used (and
// refreshed) an entry since, and that must keep it.
func (t *shardTrimmer) shard(s int) {
	t.name = layout.ShardName(s)
	fd, err := t.root.OpenDir(t.name)
	if errors.Is(err, unix.ENOENT) {
		return
	} else if err != nil {
		t.res.failed(t.name, err)
		return
	}
	defer unix.Close(fd)
	if err := t.root.EachEntry(fd, t.buf, t.entry); err != nil && err != t.ctx.Err() {
		t.res.failed(t.name, err)
	}
}

var shardDir = &scan.Dir{Depth: 1, Class: layout.Shard}

func (t *shardTrimmer) entry(e *safefs.DirEntry) error {
	select {
	case <-t.done:
		return t.ctx.Err()
	default:
	}
	if e.Err != nil {
		return nil // unreadable: the audit reports it; not removed
	}
	isDir := e.IsDir()
	kind, _ := layout.Entry(shardDir, e.Name, isDir, true)
	if kind != layout.ActionEntry && kind != layout.OutputEntry && kind != layout.ExecEntry {
		return nil // not Go's: a finding for the audit, never a removal
	}
	if t.keep != nil {
		if t.keep(kind, e.Name, e.Stat) {
			return nil
		}
	} else if lruAge(t.now, ns(e.Stat.Mtime), ns(e.Stat.Ctime), t.minAge) < t.cutoff {
		return nil
	}
	rm := Removal{Unit: unitOf(kind), DiskBytes: int64(e.Stat.Blocks) * 512, Files: 1, LastUsed: e.Stat.Mtime.Sec}
	if isDir || t.opt.Removed != nil {
		rm.Path = t.name + "/" + string(e.Name) // only when someone reads it: it costs an allocation
	}
	if isDir {
		n := rm.Path[len(t.name)+1:]
		tot, err := scan.Subtree(e.FD(), n, t.root.Mount())
		if err != nil {
			t.res.failed(rm.Path, err)
			return nil
		}
		rm.DiskBytes, rm.Files = tot.DiskBytes, tot.Files
		if tot.TooDeep > 0 {
			t.res.TooDeep++ // removed whole all the same: RemoveTree has no depth limit
		}
		if !t.opt.DryRun {
			if err := t.root.RemoveTree(e.FD(), n); errors.Is(err, unix.ENOENT) {
				return nil
			} else if err != nil {
				t.res.failed(rm.Path, err)
				return nil
			}
		}
	} else if !t.opt.DryRun {
		if err := e.Remove(); errors.Is(err, unix.ENOENT) {
			return nil
		} else if err != nil {
			t.res.failed(t.name+"/"+string(e.Name), err)
			return nil
		}
	}
	t.res.removed(rm, t.opt)
	return nil
}

func unitOf(k layout.Kind) string {
	switch k {
	case layout.ActionEntry:
		return "action"
	case layout.OutputEntry:
		return "output"
	}
	return "executable"
}
