package trim

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
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
	vs, err := scan.Walk(ctx, root.FD, sroot, scan.Options{Workers: opt.Workers, Entries: opt.Entries}, func() *buildCounter { return &buildCounter{now: now} })
	if err != nil {
		return nil, err
	}
	var h histogram
	res.BytesBefore = int64(sroot.Stat.Blocks) * 512
	for _, v := range vs {
		h.merge(&v.hist)
		res.BytesBefore += v.total
	}
	cutoff, blocked := plan(&h, res.BytesBefore, p)
	res.CutoffUnix, res.Blocked = cutoffTime(opt.Now, cutoff), blocked

	// Pass 2: remove what is older, shard by shard.
	if cutoff < noCutoff {
		if err := removeOld(ctx, root, cutoff, now, res, &opt); err != nil {
			return res, err
		}
	}
	res.BytesAfter = res.BytesBefore - res.FreedBytes
	res.WithinLimit = p.MaxSize == 0 || res.BytesAfter <= p.MaxSize
	res.DurationMS = time.Since(start).Milliseconds()
	return res, ctx.Err()
}

// buildCounter is one worker's share of pass 1.
type buildCounter struct {
	now   int64
	total int64
	hist  histogram
}

func (c *buildCounter) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	b := e.Blocks()
	c.total += b
	kind, class := layout.Entry(d, e.Name, e.IsDir(), true)
	switch {
	case kind == layout.ActionEntry || kind == layout.OutputEntry || kind == layout.ExecEntry:
		c.hist.add(age(c.now, e.Stat.Mtime), b)
	case d.Class == layout.ExecDir && e.IsFile():
		// A cached executable counts with its directory, whose mtime go
		// refreshes on use.
		var st unix.Statx_t
		if unix.Statx(d.FD(), "", unix.AT_EMPTY_PATH, unix.STATX_MTIME, &st) == nil {
			c.hist.add(age(c.now, st.Mtime), b)
		}
	}
	return class
}

func (c *buildCounter) Report(*scan.Dir, []byte, scan.Problem, error) {}

// removeOld streams over the 256 shards with a few workers and removes the
// entries last used cutoff ago or earlier (now is in Unix nanoseconds).
func removeOld(ctx context.Context, root *safefs.Root, cutoff time.Duration, now int64, res *Result, opt *Options) error {
	workers := opt.Workers
	if workers <= 0 {
		workers = 2 * runtime.GOMAXPROCS(0)
	}
	shards := make(chan int)
	results := make([]*Result, workers)
	var wg sync.WaitGroup
	for w := range results {
		results[w] = &Result{}
		wg.Add(1)
		go func(r *Result) {
			defer wg.Done()
			for s := range shards {
				trimShard(root, fmt.Sprintf("%02x", s), cutoff, now, r, opt)
			}
		}(results[w])
	}
	for s := 0; s < 256 && ctx.Err() == nil; s++ {
		shards <- s
	}
	close(shards)
	wg.Wait()
	for _, r := range results {
		res.merge(r)
	}
	return ctx.Err()
}

func trimShard(root *safefs.Root, shard string, cutoff time.Duration, now int64, res *Result, opt *Options) {
	fd, err := root.OpenDir(shard)
	if errors.Is(err, unix.ENOENT) {
		return
	} else if err != nil {
		res.failed(shard, err)
		return
	}
	defer unix.Close(fd)
	names, err := safefs.ReadNames(fd)
	if err != nil {
		res.failed(shard, err)
		return
	}
	dir := &scan.Dir{Path: shard, Depth: 1, Class: layout.Shard}
	for _, n := range names {
		st, err := root.Stat(fd, n)
		if err != nil {
			continue // gone since listed
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		kind, _ := layout.Entry(dir, []byte(n), isDir, true)
		if kind != layout.ActionEntry && kind != layout.OutputEntry && kind != layout.ExecEntry {
			continue // not Go's: a finding for the audit, never a removal
		}
		if age(now, st.Mtime) < cutoff {
			continue
		}
		rm := Removal{Path: shard + "/" + n, Unit: unitOf(kind), Bytes: int64(st.Blocks) * 512, Files: 1, LastUsed: st.Mtime.Sec}
		if isDir {
			t, err := scan.Subtree(fd, n, 0)
			if err != nil {
				res.failed(rm.Path, err)
				continue
			}
			rm.Bytes, rm.Files = t.DiskBytes, t.Files
		}
		if !opt.DryRun {
			if isDir {
				_, _, err = root.RemoveTree(fd, n)
			} else {
				err = root.RemoveStat(fd, n, &st)
			}
			if errors.Is(err, unix.ENOENT) {
				continue
			} else if err != nil {
				res.failed(rm.Path, err)
				continue
			}
		}
		res.removed(rm, opt)
	}
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
