package watch

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/layout"
	"github.com/gomaint/gomaint/maint/safefs"
)

// Modules is a watch on a module cache (GOMODCACHE) that records which
// module versions a run used, so that the rest can be pruned afterwards.
//
// What go opens, checked with strace on go1.26: a build, test, vet or list
// that loads a package from a module opens that version's
// cache/download/<path>/@v/<version>.info, .mod and .ziphash, even when
// the build cache already holds every result (a warm build); a module the
// main module requires but imports nothing from is not opened at all. A
// download writes the same files (and .zip). So a watch on every @v
// directory sees each version a run uses, and no watch on the extracted
// trees is needed.
//
// One inotify instance holds one watch per directory: the cache root and
// cache/ (for the way to cache/download, should it appear), cache/download
// and each module path directory below it (for directories go makes when
// it downloads a new module: a chain <path...>/@v made by MkdirAll), and
// each @v directory (for its files). cache/download/sumdb is not watched.
// Directories are opened beneath the root without following links or
// crossing mounts (safefs), only to add their watch through
// /proc/self/fd/N, and closed again: the watch holds no fd per directory.
//
// A version is recorded, by the name trim.RemoveVersion takes
// ("github.com/!burnt!sushi/toml@v1.6.0", escaped as on disk), when one of
// its .info, .mod, .zip or .ziphash is opened, closed or moved in, and
// every version in an @v directory that appeared during the run (made by
// a download before its watch existed). Opening .lock or .partial records
// nothing: gomaint's own prune does that.
//
// The record is only as good as the watch, so Incomplete says when it is
// not: a *LimitError when fs.inotify.max_user_watches (or the open-file
// limit) ran out, after which the watch lets go of all its watches rather
// than hold the user's budget for nothing; ErrEventsLost when the kernel's
// queue overflowed; and an error when a directory could not be watched or
// a watched one was moved. Then nothing may be pruned.
type Modules struct {
	root   *safefs.Root
	file   *os.File // the inotify instance, non-blocking, so Close wakes Run
	ifd    int
	rootWD int32
	done   chan struct{} // closed when Run returns

	mu      sync.Mutex
	dirs    map[int32]modDir // by watch descriptor: one per watched directory
	used    map[string]bool
	limit   *LimitError
	lost    error // the first other reason the record cannot be trusted
	running bool
	stopped bool
}

// ErrEventsLost is why a record is incomplete after the kernel's inotify
// queue overflowed (fs.inotify.max_queued_events).
var ErrEventsLost = errors.New("the kernel's inotify event queue overflowed and events were lost (fs.inotify.max_queued_events)")

// modDir is one watched directory.
type modDir struct {
	rel   string // relative to the root: "", "cache", "cache/download/github.com/@v"...
	kind  dirKind
	depth int
}

type dirKind uint8

const (
	spineDir dirKind = iota // the root and cache/: the way to cache/download
	pathDir                 // cache/download and the module path directories below it
	atVDir                  // cache/download/<path>/@v: a module's version files
)

// maxModDepth bounds how deep below the root directories are watched (the
// recursion holds an fd per level); module paths are a few elements long.
const maxModDepth = 64

// Events watched: on the root and cache/, the next directory of the way
// arriving (the root also going); on module path directories,
// subdirectories arriving; on @v, version files opened, closed or moved
// in. Every directory but the root reports its own move: the names
// recorded below it would be wrong.
const (
	pathMask    = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_ONLYDIR | unix.IN_MOVE_SELF
	modRootMask = pathMask | unix.IN_DELETE_SELF
	atVMask     = unix.IN_OPEN | unix.IN_CLOSE_WRITE | unix.IN_CLOSE_NOWRITE | unix.IN_MOVED_TO | unix.IN_ONLYDIR | unix.IN_EXCL_UNLINK | unix.IN_MOVE_SELF
	modRootGone = unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_UNMOUNT | unix.IN_IGNORED
)

// OpenModules starts watching the module cache at root, which the caller
// keeps open until Stop, then calls Run in a goroutine before the run
// begins. An error means no watch at all; a watch that misses something is
// returned, and Incomplete says so.
func OpenModules(root *safefs.Root) (*Modules, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", root.Path, limitError("inotify_init1", err))
	}
	m := &Modules{root: root, file: os.NewFile(uintptr(fd), "inotify"), ifd: fd, done: make(chan struct{}),
		dirs: map[int32]modDir{}, used: map[string]bool{}}
	if m.rootWD, err = addWatch(fd, root.FD, modRootMask); err != nil {
		m.file.Close()
		return nil, fmt.Errorf("watch %s: %w", root.Path, limitError("inotify_add_watch", err))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dirs[m.rootWD] = modDir{kind: spineDir}
	m.followLocked(root.FD, m.dirs[m.rootWD], "cache", false)
	return m, nil
}

// child is the directory name of d as watched, or false when it is not.
func (d modDir) child(name string) (modDir, bool) {
	c := modDir{rel: name, kind: pathDir, depth: d.depth + 1}
	if d.rel != "" {
		c.rel = d.rel + "/" + name
	}
	switch {
	case d.kind == spineDir && d.rel == "" && name == "cache":
		c.kind = spineDir
	case d.kind == spineDir && d.rel == "cache" && name == "download":
	case d.kind == pathDir && name == "@v":
		c.kind = atVDir
	case d.kind == pathDir && !(d.rel == "cache/download" && name == "sumdb"):
	default:
		return c, false
	}
	return c, true
}

func (d modDir) mask() uint32 {
	if d.kind == atVDir {
		return atVMask
	}
	return pathMask
}

// followLocked watches the directory name of parent (open as parentFD) if
// it is one to watch, and what it holds. fresh means it appeared during
// the run: the version files in it were written by the run.
func (m *Modules) followLocked(parentFD int, parent modDir, name string, fresh bool) {
	d, ok := parent.child(name)
	if !ok || m.limit != nil {
		return
	}
	if d.depth > maxModDepth {
		m.loseLocked(fmt.Errorf("%s: more than %d directories deep; not watched", d.rel, maxModDepth))
		return
	}
	fd, err := m.root.OpenChild(parentFD, name)
	switch {
	case err == nil:
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.ELOOP), errors.Is(err, safefs.ErrOtherMount):
		// Gone, not a directory, a link (never followed), or another
		// mount (never entered, so never pruned either).
		return
	default:
		m.failLocked(fmt.Errorf("%s: %w", d.rel, limitError("open", err)))
		return
	}
	defer unix.Close(fd)
	wd, err := addWatch(m.ifd, fd, d.mask())
	if err != nil {
		m.failLocked(fmt.Errorf("%s: %w", d.rel, limitError("inotify_add_watch", err)))
		return
	}
	m.dirs[wd] = d
	if d.kind == spineDir {
		m.followLocked(fd, d, "download", fresh)
		return
	}
	if d.kind == atVDir && !fresh {
		return
	}
	names, err := safefs.ReadNames(fd)
	if err != nil {
		m.loseLocked(fmt.Errorf("%s: %w", d.rel, err))
		return
	}
	for _, n := range names {
		if d.kind == atVDir {
			m.recordLocked(d.rel, n)
		} else {
			m.followLocked(fd, d, n, fresh)
		}
	}
}

// recordLocked records the version that the file name of the @v directory
// atV belongs to.
func (m *Modules) recordLocked(atV, name string) {
	switch _, ext, _ := layout.VersionFile(name); ext {
	case ".info", ".mod", ".zip", ".ziphash":
		m.used[layout.VersionOfDownload(atV, name)] = true
	}
}

// failLocked notes why a directory is not watched. When a limit ran out,
// every watch is let go: the record can no longer serve, and the user's
// watches are better left to other programs.
func (m *Modules) failLocked(err error) {
	var l *LimitError
	if !errors.As(err, &l) {
		m.loseLocked(err)
		return
	}
	l.Dirs = len(m.dirs)
	m.limit = l
	for wd := range m.dirs {
		unix.InotifyRmWatch(m.ifd, uint32(wd))
	}
	clear(m.dirs)
}

func (m *Modules) loseLocked(err error) {
	if m.lost == nil {
		m.lost = err
	}
}

// Run reads events until Stop (or Close), which it obeys only once it has
// read every event the kernel queued before: a run's last opens are
// recorded. It returns nil after Stop, or ErrRootGone when the module
// cache root was removed, moved or unmounted.
func (m *Modules) Run() error {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return nil
	}
	m.running = true
	m.mu.Unlock()
	defer close(m.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := m.file.Read(buf)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded): // Stop
			return m.drain(buf)
		case err != nil:
			return fmt.Errorf("read inotify events: %w", err)
		}
		if err := m.handle(buf[:n]); err != nil {
			return err
		}
	}
}

// drain handles what the kernel still holds; the fd is non-blocking.
func (m *Modules) drain(buf []byte) error {
	for {
		n, err := unix.Read(m.ifd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read inotify events: %w", err)
		}
		if err := m.handle(buf[:n]); err != nil {
			return err
		}
	}
}

func (m *Modules) handle(buf []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return eachEvent(buf, func(wd int32, mask uint32, name []byte) error {
		if mask&unix.IN_Q_OVERFLOW != 0 {
			m.loseLocked(fmt.Errorf("watch %s: %w", m.root.Path, ErrEventsLost))
			return nil
		}
		d, ok := m.dirs[wd]
		switch {
		case !ok: // let go of
		case wd == m.rootWD && mask&modRootGone != 0:
			m.loseLocked(fmt.Errorf("watch %s: %w", m.root.Path, ErrRootGone))
			return ErrRootGone
		case mask&unix.IN_IGNORED != 0: // removed, its versions with it
			delete(m.dirs, wd)
		case mask&unix.IN_MOVE_SELF != 0:
			m.loseLocked(fmt.Errorf("%s was moved during the run: the versions below it are no longer known by their names", d.rel))
		case len(name) == 0:
		case d.kind == atVDir:
			if mask&unix.IN_ISDIR == 0 {
				m.recordLocked(d.rel, string(name))
			}
		case mask&unix.IN_ISDIR != 0:
			m.arriveLocked(d, string(name))
		}
		return nil
	})
}

// arriveLocked follows a directory made in (or moved into) parent.
func (m *Modules) arriveLocked(parent modDir, name string) {
	if _, ok := parent.child(name); !ok {
		return
	}
	fd, err := m.root.OpenDir(parent.rel)
	if errors.Is(err, unix.ENOENT) {
		return
	} else if err != nil {
		m.failLocked(fmt.Errorf("%s: %w", parent.rel, limitError("open", err)))
		return
	}
	defer unix.Close(fd)
	m.followLocked(fd, parent, name, true)
}

// Stop stops Run once it has read what is queued, and waits for it; with
// no Run started, it reads the queue itself. Used is complete after Stop.
func (m *Modules) Stop() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.stopped = true
	running := m.running
	m.mu.Unlock()
	if running {
		m.file.SetReadDeadline(time.Now())
		<-m.done
	} else if err := m.drain(make([]byte, 64<<10)); err != nil {
		m.mu.Lock()
		m.loseLocked(err)
		m.mu.Unlock()
	}
}

// Close stops the watch and frees its inotify instance, which takes the
// kernel an RCU grace period (up to some 20 ms): a caller with other work
// calls Stop first and Close beside that work.
func (m *Modules) Close() error {
	m.Stop()
	return m.file.Close()
}

// Used lists the versions recorded, sorted, as trim.RemoveVersion names
// them.
func (m *Modules) Used() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.used))
	for v := range m.used {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// Incomplete returns why the record may miss a version used (a
// *LimitError, ErrEventsLost, or a directory not watched or moved), or nil
// when every directory was watched and no event lost.
func (m *Modules) Incomplete() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.limit != nil {
		l := *m.limit
		return &l
	}
	return m.lost
}

// Watches returns how many directories are watched, one watch each.
func (m *Modules) Watches() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.dirs)
}
