package watch

import (
	"errors"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/layout"
	"github.com/gomaint/gomaint/maint/scan"
)

// isShard: the 256 names 00..ff, as go makes them. Nothing else is ever
// watched, so no name a user picks adds a watch.
func isShard(name []byte) bool {
	if len(name) != 2 {
		return false
	}
	for _, c := range name {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Resync looks at every shard name again: watches shards that have none
// (after a limit was raised, or events were lost), drops watches of shards
// that are gone. It returns Incomplete's answer.
func (w *Build) Resync() error {
	w.mu.Lock()
	w.resyncLocked()
	w.mu.Unlock()
	return w.Incomplete()
}

func (w *Build) resyncLocked() {
	if w.opt.NoShardFDs && w.resyncByNameLocked() {
		return
	}
	for i := range 256 {
		w.addShardLocked(layout.ShardName(i), false)
	}
}

// resyncByNameLocked is resyncLocked for a watch that holds no shard fd:
// each shard is watched by its name, from a thread whose working
// directory is the root (unshare(CLONE_FS), fchdir), at the cost of a
// statx and an inotify_add_watch. Through /proc/self/fd each took an
// open, a walk of /proc and a close as well: half of the 4 ms `gomaint
// run` spent before its command. False, having done nothing, when the
// thread cannot be set up.
func (w *Build) resyncByNameLocked() bool {
	type added struct {
		wd  int32
		err error
	}
	mask := w.shardMask() | unix.IN_DONT_FOLLOW
	res := make(chan []added, 1)
	go func() {
		// Never unlocked: the runtime ends the thread with the goroutine,
		// so no other goroutine runs in its working directory. (The main
		// thread is parked instead, hence the chdir back to /: no thread
		// keeps the cache busy.)
		runtime.LockOSThread()
		if unix.Unshare(unix.CLONE_FS) != nil || unix.Fchdir(w.root.FD) != nil {
			res <- nil
			return
		}
		out := make([]added, 256)
		for i := range out {
			out[i].wd, out[i].err = w.addByName(layout.ShardName(i), mask)
		}
		unix.Chdir("/")
		res <- out
	}()
	out := <-res
	if out == nil {
		return false
	}
	w.byName = true
	for i, a := range out {
		name := layout.ShardName(i)
		le := limitError("inotify_add_watch", a.err)
		switch {
		case a.err == nil:
			w.placeLocked(name, a.wd, -1, false)
		case errors.As(le, new(*LimitError)):
			w.failLocked(name, le)
		default:
			// Not there (any more), not a directory, or another mount.
			w.dropLocked(name)
			delete(w.failed, name)
		}
	}
	return true
}

// errNotShard: a shard name that holds no directory of the root's mount.
var errNotShard = errors.New("not a directory on the cache's mount")

// addByName watches the shard name in the working directory, the root:
// a directory on the root's mount, not followed if a link (IN_ONLYDIR and
// IN_DONT_FOLLOW in mask). A name swapped between the statx and the watch
// is a directory a user could make anyway; only root mounts.
func (w *Build) addByName(name string, mask uint32) (int32, error) {
	var st unix.Statx_t
	if err := scan.Statx(unix.AT_FDCWD, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, unix.STATX_TYPE|unix.STATX_MNT_ID, &st); err != nil {
		return -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || !w.root.SameMount(&st) {
		return -1, errNotShard
	}
	wd, err := unix.InotifyAddWatch(w.ifd, name, mask)
	return int32(wd), err
}

// shardMask is what a shard's watch hears of.
func (w *Build) shardMask() uint32 {
	mask := uint32(shardMask)
	if w.opt.Counts != nil {
		mask |= countMask
	}
	if w.opt.TrackUse {
		mask |= unix.IN_OPEN
	}
	return mask
}

// Incomplete returns a *LimitError while shards that exist have no watch
// because a limit ran out, else nil.
func (w *Build) Incomplete() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.failed) == 0 || w.lastErr == nil {
		return nil
	}
	e := *w.lastErr
	e.Shards = len(w.failed)
	return &e
}

// reportLimit tells Options.Degraded when shards lack a watch.
func (w *Build) reportLimit() {
	var l *LimitError
	if err := w.Incomplete(); errors.As(err, &l) && w.opt.Degraded != nil {
		w.opt.Degraded(l)
	}
}

// addShardLocked watches the shard directory name, replacing a watch of a
// directory that held the name before; count adds what the shard already
// holds to the estimate (go may write entries into a new shard before the
// watch on it exists).
func (w *Build) addShardLocked(name string, count bool) {
	if _, ok := w.shards[name]; !ok && len(w.shards) >= w.budget && !w.opt.NoShardFDs {
		// Leave the daemon the fds its scans, trims and socket need.
		w.failLocked(name, limitError("open", unix.EMFILE))
		return
	}
	fd, err := w.root.OpenChild(w.root.FD, name)
	if err != nil {
		if le := limitError("open", err); errors.As(le, new(*LimitError)) {
			w.failLocked(name, le)
			return
		}
		// Not there (any more), or not a directory: the audit's business.
		w.dropLocked(name)
		delete(w.failed, name)
		return
	}
	wd, err := w.add(fd, w.shardMask())
	if err != nil {
		unix.Close(fd)
		if le := limitError("inotify_add_watch", err); errors.As(le, new(*LimitError)) {
			w.failLocked(name, le)
		}
		return
	}
	w.placeLocked(name, wd, fd, count)
}

// placeLocked records the watch wd of the shard name, open at fd (-1 when
// watched by name), and counts what it holds when count.
func (w *Build) placeLocked(name string, wd int32, fd int, count bool) {
	delete(w.failed, name)
	if old, ok := w.shards[name]; ok && old.wd == wd {
		if fd >= 0 {
			unix.Close(fd) // the same directory, seen again
		}
		return
	}
	w.dropLocked(name)
	if other, ok := w.byWD[wd]; ok {
		// The directory moved from another shard name: keep the one
		// watch under its new name.
		w.shards[other].close()
		delete(w.shards, other)
	}
	w.byWD[wd] = name
	if count && fd >= 0 {
		if t, err := scan.Subtree(fd, ".", w.root.Mount()); err == nil {
			w.bytes.Add(t.DiskBytes)
			w.files.Add(t.Files)
		}
	}
	if w.opt.NoShardFDs && fd >= 0 {
		unix.Close(fd)
		fd = -1
	}
	w.shards[name] = shard{wd: wd, fd: fd}
}

func (w *Build) failLocked(name string, err error) {
	w.dropLocked(name)
	w.failed[name] = true
	errors.As(err, &w.lastErr)
}

// dropLocked removes the watch of shard name and closes its fd. The
// kernel's IN_IGNORED for it comes later and finds nothing.
func (w *Build) dropLocked(name string) {
	s, ok := w.shards[name]
	if !ok {
		return
	}
	unix.InotifyRmWatch(w.ifd, uint32(s.wd))
	s.close()
	delete(w.shards, name)
	delete(w.byWD, s.wd)
}

// fdReserve is how many fds below its limit the daemon keeps free of
// shard watches: a walk, a trim's workers, the journal and the socket.
const fdReserve = 64

// shardBudget is how many shard fds the open-file limit leaves room for.
func shardBudget() int {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil || rl.Cur > 256+fdReserve*2 {
		return 256
	}
	return max(int(rl.Cur)-fdReserve*2, 0)
}

// growFDTable grows the fd table to hold n fds above fd, the newest, at
// once, as Open does before opening the shards. The kernel grows the
// table by doubling, and in a threaded process each growth waits for an
// RCU grace period (milliseconds each): 256 shard fds cost up to three
// waits, one when grown at once. Past the open-file limit it fails, and
// the shards grow the table as they come.
func growFDTable(fd, n int) {
	hi, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, fd+n)
	if err == nil {
		unix.Close(hi)
	}
}
