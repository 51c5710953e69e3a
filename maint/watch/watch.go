// Package watch follows a build cache with inotify, so the daemon knows
// within milliseconds when the cache grows past its limit, without polling.
//
// A Build watch holds one inotify instance with a watch on the cache root
// (to see shards created, moved and removed later) and on each of the 256
// shard directories, at most one watch and one open fd per shard name, so
// no sequence of renames can make it hold more than 257 watches and 257
// fds. It keeps a running estimate of the cache's disk usage: every entry
// that is closed after writing, or moved in, adds its size. Removals are
// not subtracted, since inotify does not say what a removed file weighed;
// the estimate therefore errs high, and is made exact again by Adjust after
// every trim and rescan. Nothing is ever removed on the strength of the
// estimate: it only says when to run a trim, and the trim measures.
//
// When the kernel's event queue overflows, events were lost: the watch
// reports it (the daemon rescans, never guesses) and looks at every shard
// name again, since a shard created in the gap has no watch yet.
//
// When a limit runs out (fs.inotify.max_user_watches, max_user_instances,
// the open-file limit) the watch is incomplete, never silently: Open or
// Incomplete return a *LimitError, Options.Degraded hears of later ones,
// and Resync tries again.
//
// Run ends with ErrRootGone when the cache root itself is moved (or
// replaced: moved away first) or unmounted: the daemon then tears the
// watch down and waits for the path to hold a cache again. The kernel
// reports a removal (IN_DELETE_SELF) only once the last fd of the
// directory is closed, the watch's own included, so the daemon also checks
// every few seconds that the path still names the watched directory.
//
// For a shared cache the watch also records use: users cannot refresh the
// mtime of entries they do not own, which Go does on every use older than an
// hour, so the daemon does it for them (as root, through safefs.Touch) when
// an entry is opened.
//
// A Modules watch follows a module cache for `gomaint run`: it records
// which module versions a run used (modules.go), with one watch per
// download directory and no fd held, and says when the record is
// incomplete, so that nothing is pruned on its strength. Handoff frees a
// run's instances without making it wait for the kernel (handoff.go).
package watch

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/layout"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
)

// Options of a watch.
type Options struct {
	// Limit is the size above which Over is called; 0 never calls it.
	Limit int64
	// Over is called, from the watch's goroutine, whenever an event leaves
	// the estimate above Limit. It must not block.
	Over func()
	// Overflow is called when the kernel dropped events. It must not block.
	Overflow func()
	// Degraded is called, from the watch's goroutine, when a shard that
	// appeared could not be watched because a limit ran out. It must not
	// block.
	Degraded func(*LimitError)
	// TrackUse refreshes the mtime of entries opened by anyone (shared caches).
	TrackUse bool
	// Counts, when set, counts hits, misses and bytes written (counts.go).
	Counts *Counts
	// Wiped is called, from the watch's goroutine, when half the shard
	// directories were removed since the watch began (go clean -cache,
	// rm -rf): gomaint never removes one. It must not block.
	Wiped func()
	// NoShardFDs: a shard's fd is held only while its watch is added and
	// while an event of it is handled, not for the watch's life. The fd
	// table then stays small, where growing it for 257 fds would wait for
	// an RCU grace period (`gomaint run`, before its command can start),
	// and each entry written costs two syscalls more. Not with TrackUse.
	NoShardFDs bool
	// Poll, when set, reads the queue of events that often instead of
	// waking for each event (poll.go): for a watch that need not answer
	// at once, such as `gomaint run`'s.
	Poll time.Duration
	// Entry, when set, hears from the watch's goroutine of every action
	// entry go looked up (Looked), every action, output or executable
	// entry written or moved in (Written), and every action or output file
	// removed or moved out (Removed): the working set of `gomaint run`.
	// name is only valid during the call. It needs Counts set, for the
	// lookups' events; it must not block.
	Entry func(name []byte, op EntryOp)
}

// EntryOp is what happened to an entry, for Options.Entry.
type EntryOp int

const (
	Looked EntryOp = iota
	Written
	Removed
)

// Build is a watch on one build cache.
type Build struct {
	root   *safefs.Root
	opt    Options
	file   *os.File // the inotify instance, non-blocking (so Close wakes Run) unless polled
	ifd    int      // file's descriptor, for inotify_add_watch and rm_watch
	rootWD int32
	poll   *poller // with Options.Poll

	mu     sync.Mutex
	shards map[string]shard // by name; only names of shards, so at most 256
	byWD   map[int32]string
	// failed holds the shards that exist but have no watch because a
	// limit ran out, and lastErr the last such error.
	failed  map[string]bool
	lastErr *LimitError
	budget  int  // shard fds the open-file limit allows (shardBudget)
	byName  bool // the shards were last watched by name (resyncByNameLocked)

	bytes, files atomic.Int64
	refreshed    atomic.Int64
	shardsGone   int // shard directories removed since the watch began, or since Wiped was called
}

type shard struct {
	wd int32
	fd int // -1 with NoShardFDs
}

func (s shard) close() {
	if s.fd >= 0 {
		unix.Close(s.fd)
	}
}

// Events gomaint watches on a shard: anything that adds, replaces or
// removes an entry; a file closed without writing (a lookup, when counted);
// IN_OPEN too when use is tracked. On the root: shards coming and going,
// and the root itself going.
const (
	shardMask = unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM |
		unix.IN_ONLYDIR | unix.IN_EXCL_UNLINK
	countMask = unix.IN_CLOSE_NOWRITE
	rootMask  = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_ONLYDIR |
		unix.IN_DELETE_SELF | unix.IN_MOVE_SELF
	rootGoneMask = unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_IGNORED | unix.IN_UNMOUNT
)

// Open starts watching the build cache at root. The caller keeps root open
// until Close, then calls Run in a goroutine. An error means no watch at
// all; a watch that lacks some shards is returned, and Incomplete says so.
func Open(root *safefs.Root, opt Options) (*Build, error) {
	flags := unix.IN_CLOEXEC | unix.IN_NONBLOCK
	if opt.Poll > 0 {
		flags = unix.IN_CLOEXEC // so that os.NewFile leaves it out of the poller
	}
	fd, err := unix.InotifyInit1(flags)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", root.Path, limitError("inotify_init1", err))
	}
	w := &Build{root: root, opt: opt, file: os.NewFile(uintptr(fd), "inotify"), ifd: fd,
		shards: map[string]shard{}, byWD: map[int32]string{}, failed: map[string]bool{}, budget: shardBudget()}
	if opt.Poll > 0 {
		w.poll = newPoller()
	}
	if w.rootWD, err = w.add(root.FD, rootMask); err != nil {
		w.file.Close()
		return nil, fmt.Errorf("watch %s: %w", root.Path, limitError("inotify_add_watch", err))
	}
	if !opt.NoShardFDs {
		growFDTable(root.FD, w.budget+1)
	}
	w.mu.Lock()
	w.resyncLocked()
	w.mu.Unlock()
	return w, nil
}

// add watches the directory open at fd (addWatch).
func (w *Build) add(fd int, mask uint32) (int32, error) { return addWatch(w.ifd, fd, mask) }

// Estimate returns the estimated disk bytes and file count.
func (w *Build) Estimate() (bytes, files int64) { return w.bytes.Load(), w.files.Load() }

// Refreshed returns how many entries had their use recorded.
func (w *Build) Refreshed() int64 { return w.refreshed.Load() }

// Watches returns how many shard directories are watched (each with one
// watch and one open fd).
func (w *Build) Watches() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.shards)
}

// Adjust corrects the size estimate by what a measurement found: the
// daemon passes the difference between a count and the estimate when the
// count began, so events during the count stay counted. (Removals take
// files off as they happen; a file's size is gone with it, so bytes need
// the measurement.)
func (w *Build) Adjust(bytes int64) { w.bytes.Add(bytes) }

// SetFiles sets the file count from a full count.
func (w *Build) SetFiles(n int64) { w.files.Store(n) }

// Close stops Run; the caller must still wait for Run to return.
func (w *Build) Close() error {
	if w.poll != nil {
		return w.closePolled()
	}
	return w.file.Close()
}

// ErrRootGone ends Run when the cache root is removed, moved, replaced or
// unmounted: the watch follows an inode, which no longer is the cache.
var ErrRootGone = errors.New("the cache directory was removed, moved or unmounted")

// Run reads events until Close. It returns nil after Close, or the error
// that stopped it (ErrRootGone, for one). It releases the shard fds as it
// returns, so no event is handled with a closed fd.
func (w *Build) Run() error {
	defer func() {
		// Closing the instance ends its watches; its fd number may already
		// belong to another file, so no inotify_rm_watch here.
		w.mu.Lock()
		defer w.mu.Unlock()
		for name, s := range w.shards {
			s.close()
			delete(w.shards, name)
			delete(w.byWD, s.wd)
		}
	}()
	buf := make([]byte, 64<<10)
	if w.poll != nil {
		return w.runPolled(buf)
	}
	for {
		n, err := w.file.Read(buf)
		if errors.Is(err, os.ErrClosed) {
			return nil
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			return w.drain(buf)
		} else if err != nil {
			return fmt.Errorf("read inotify events: %w", err)
		}
		if err := w.handle(buf[:n]); err != nil {
			return err
		}
		w.checkOver()
	}
}

// checkOver calls Over when the estimate is above Limit.
func (w *Build) checkOver() {
	if w.opt.Limit > 0 && w.bytes.Load() > w.opt.Limit && w.opt.Over != nil {
		w.opt.Over()
	}
}

// Drain makes Run handle every event the kernel has queued, then return
// nil: a caller whose build has ended (its files closed, so their events
// queued) hears of all of them, which Close would drop.
func (w *Build) Drain() error {
	if w.poll != nil {
		w.poll.drainOnce.Do(func() { close(w.poll.drain) })
		return nil
	}
	return w.file.SetReadDeadline(time.Now())
}

// drain reads the queue to its end, past the deadline the poller keeps.
func (w *Build) drain(buf []byte) error {
	for {
		n, err := unix.Read(w.ifd, buf)
		if err == unix.EAGAIN || (err == nil && n <= 0) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read inotify events: %w", err)
		}
		if err := w.handle(buf[:n]); err != nil {
			return err
		}
	}
}

func (w *Build) handle(buf []byte) error {
	return eachEvent(buf, func(wd int32, mask uint32, name []byte) error {
		switch {
		case mask&unix.IN_Q_OVERFLOW != 0:
			if w.opt.Overflow != nil {
				w.opt.Overflow()
			}
			w.mu.Lock()
			w.resyncLocked()
			w.mu.Unlock()
			w.reportLimit()
		case wd == w.rootWD:
			if mask&rootGoneMask != 0 {
				return ErrRootGone
			}
			w.rootEvent(mask, name)
		default:
			w.shardEvent(wd, mask, name)
		}
		return nil
	})
}

// rootEvent follows shards: a shard created or moved in gets a watch, one
// removed or moved away loses its watch and fd (a moved directory stays
// watched by the kernel wherever it goes, so dropping it is on us).
func (w *Build) rootEvent(mask uint32, name []byte) {
	if mask&unix.IN_ISDIR == 0 || !isShard(name) {
		return
	}
	w.mu.Lock()
	if mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0 {
		w.dropLocked(string(name))
		delete(w.failed, string(name))
		if w.shardsGone++; w.shardsGone >= 128 && w.opt.Wiped != nil {
			w.shardsGone = 0
			w.opt.Wiped()
		}
	} else {
		w.addShardLocked(string(name), true)
	}
	w.mu.Unlock()
	w.reportLimit()
}

func (w *Build) shardEvent(wd int32, mask uint32, name []byte) {
	w.mu.Lock()
	sname, ok := w.byWD[wd]
	var fd int
	if ok {
		fd = w.shards[sname].fd
	}
	if ok && mask&unix.IN_IGNORED != 0 {
		// The kernel ended the watch itself (the shard is gone).
		w.shards[sname].close()
		delete(w.shards, sname)
		delete(w.byWD, wd)
		ok = false
	}
	w.mu.Unlock()
	if !ok || len(name) == 0 {
		return // a shard we dropped, or an event on the shard itself
	}
	isDir := mask&unix.IN_ISDIR != 0
	if mask&unix.IN_CLOSE_NOWRITE != 0 && (len(name) != 66 || name[65] != 'a') {
		return // the outputs go reads, and our own scans: the commonest events, passed over first
	}
	kind, _ := layout.Entry(&scan.Dir{Depth: 1, Class: layout.Shard}, name, isDir, true)
	if kind != layout.ActionEntry && kind != layout.OutputEntry && kind != layout.ExecEntry {
		return // go's temporary files and strangers: the audit's business
	}
	switch {
	case mask&unix.IN_CLOSE_NOWRITE != 0:
		if w.opt.Counts != nil {
			w.opt.Counts.Hits.Add(1)
		}
		if w.opt.Entry != nil {
			w.opt.Entry(name, Looked)
		}
	case mask&unix.IN_CREATE != 0 && !isDir:
		w.files.Add(1)
		if kind == layout.ActionEntry {
			w.opt.Counts.created(name)
		}
	case mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0 && !isDir:
		w.files.Add(-1)
		if w.opt.Entry != nil {
			w.opt.Entry(name, Removed)
		}
	case mask&(unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO) != 0:
		if st, err := w.stat(fd, sname, string(name)); err == nil {
			w.bytes.Add(int64(st.Blocks) * 512)
			w.opt.Counts.written(kind, int64(st.Blocks)*512)
			if w.opt.Entry != nil {
				w.opt.Entry(name, Written)
			}
			if mask&unix.IN_MOVED_TO != 0 && !isDir {
				w.files.Add(1)
			}
		}
	case mask&unix.IN_OPEN != 0 && w.opt.TrackUse:
		w.used(fd, string(name))
	}
}

// stat examines the entry name of the shard sname, open at fd unless
// NoShardFDs (-1): then it opens the shard beneath the root for the call.
func (w *Build) stat(fd int, sname, name string) (unix.Statx_t, error) {
	if fd < 0 {
		var err error
		if fd, err = w.root.OpenChild(w.root.FD, sname); err != nil {
			return unix.Statx_t{}, err
		}
		defer unix.Close(fd)
	}
	return w.root.Stat(fd, name)
}

// useInterval is how stale an mtime must be before a use refreshes it: go
// itself refreshes at most hourly, and trims never remove what is younger.
const useInterval = time.Hour

// used refreshes an opened entry's mtime, as go would have had it the
// right to.
func (w *Build) used(fd int, name string) {
	st, err := w.root.Stat(fd, name)
	if err != nil || time.Since(time.Unix(st.Mtime.Sec, int64(st.Mtime.Nsec))) < useInterval {
		return
	}
	if w.root.Touch(fd, name, time.Now()) == nil {
		w.refreshed.Add(1)
	}
}
