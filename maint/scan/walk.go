// Package scan walks a cache tree read-only, in parallel, with bounded memory.
//
// Invariants the walker keeps, whoever runs it (docs/design.md, safety 1 and 2):
//   - It never follows a symbolic link: entries are examined with
//     statx(AT_SYMLINK_NOFOLLOW) and directories opened relative to their
//     parent's fd with RESOLVE_NO_SYMLINKS (openat2) or O_NOFOLLOW.
//   - It never leaves the root's mount: a directory whose mount id (or
//     device) differs from the root's is reported and not entered, and
//     openat2's RESOLVE_NO_XDEV|RESOLVE_BENEATH makes the kernel enforce it.
//   - It reads no file contents and builds no per-file state: memory is
//     O(workers × depth + queued directories), never O(files).
//
// Visitors see every entry below the root exactly once. Each worker has its
// own Visitor, so visitors need no locks; the caller merges them afterwards.
package scan

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Class is a visitor-defined tag that a directory passes to its entries,
// such as "inside a module version" or "a build-cache shard". The root's
// class is 0.
type Class uint32

// Dir is a directory whose entries are being visited.
type Dir struct {
	// Path is relative to the root, "" for the root itself.
	Path  string
	Depth int // the root is 0
	Class Class
	fd    int
}

// FD is the open directory, valid during the visits of its entries. Code
// that changes the tree must go through safefs with it.
func (d *Dir) FD() int { return d.fd }

// Join returns the relative path of an entry of d.
func (d *Dir) Join(name []byte) string {
	if d.Path == "" {
		return string(name)
	}
	return d.Path + "/" + string(name)
}

// Entry is one directory entry. Name and Stat are only valid during Visit.
type Entry struct {
	Name []byte
	Stat *unix.Statx_t
}

func (e *Entry) Type() uint32  { return uint32(e.Stat.Mode) & unix.S_IFMT }
func (e *Entry) IsDir() bool   { return e.Type() == unix.S_IFDIR }
func (e *Entry) IsFile() bool  { return e.Type() == unix.S_IFREG }
func (e *Entry) IsLink() bool  { return e.Type() == unix.S_IFLNK }
func (e *Entry) Mtime() int64  { return e.Stat.Mtime.Sec }
func (e *Entry) Atime() int64  { return e.Stat.Atime.Sec }
func (e *Entry) Perm() uint32  { return uint32(e.Stat.Mode) & 0o7777 }
func (e *Entry) Blocks() int64 { return int64(e.Stat.Blocks) * 512 }

// Problem is something the walk saw but did not do.
type Problem int

const (
	// Unreadable: a directory could not be opened or read (err says why).
	Unreadable Problem = iota
	// OtherMount: a mount point (or a file bind-mounted into the tree); not entered.
	OtherMount
	// TooDeep: nesting beyond Options.MaxDepth; not entered.
	TooDeep
)

// Visitor receives the entries of a walk.
type Visitor interface {
	// Visit sees one entry of dir. For a directory it returns the class its
	// entries will see, or Skip to leave it unread.
	Visit(dir *Dir, e *Entry) Class
	// Report hears of an entry the walk could not handle.
	Report(dir *Dir, name []byte, p Problem, err error)
}

// Skip, returned by Visit for a directory, leaves it unread.
const Skip Class = 1<<32 - 1

// Options tune a walk.
type Options struct {
	// Workers reading directories at once; 0 means 4 per CPU, since the
	// work is waiting on metadata I/O more than computing.
	Workers int
	// MaxDepth bounds nesting (each level holds a file descriptor).
	MaxDepth int
	// Entries, when set, is increased as entries are visited (for progress).
	Entries *atomic.Int64
}

// Root describes the root directory of a walk.
type Root struct {
	Stat unix.Statx_t
	// Mount is the root's mount id (0 when the kernel cannot tell).
	Mount uint64
	FS    unix.Statfs_t
}

const statxMask = unix.STATX_TYPE | unix.STATX_MODE | unix.STATX_NLINK | unix.STATX_UID | unix.STATX_GID |
	unix.STATX_ATIME | unix.STATX_MTIME | unix.STATX_CTIME | unix.STATX_INO | unix.STATX_SIZE | unix.STATX_BLOCKS | unix.STATX_MNT_ID

const statxFlags = unix.AT_SYMLINK_NOFOLLOW | unix.AT_NO_AUTOMOUNT | unix.AT_STATX_DONT_SYNC

// OpenDir opens the directory path, refusing a symbolic link anywhere in
// it (ELOOP or ENOTDIR). Cache paths are resolved before they are opened
// (target.Resolve), so a link found now was put there since: perhaps by a
// user who swapped an ancestor of their cache for a link, hoping root
// follows it.
func OpenDir(path string) (int, error) {
	flags := uint64(unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC)
	if openat2Works() {
		return unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{Flags: flags, Resolve: unix.RESOLVE_NO_SYMLINKS})
	}
	return openNoLinks(path, int(flags))
}

// openNoLinks is OpenDir without openat2: one component at a time, each
// relative to its parent with O_NOFOLLOW, which a plain open(2) applies
// to the last component only.
func openNoLinks(path string, flags int) (int, error) {
	if !filepath.IsAbs(path) {
		return -1, fmt.Errorf("%s: not an absolute path", path)
	}
	cur, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	parts := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	for i, part := range parts {
		if part == "." || part == ".." {
			unix.Close(cur)
			return -1, fmt.Errorf("%s: %q in a resolved path", path, part)
		}
		f := unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
		if i == len(parts)-1 {
			f = flags
		}
		next, err := unix.Openat(cur, part, f, 0)
		unix.Close(cur)
		if err != nil {
			return -1, err
		}
		cur = next
	}
	if len(parts) == 0 { // "/" itself, opened as asked
		unix.Close(cur)
		return unix.Open("/", flags, 0)
	}
	return cur, nil
}

// OpenRoot opens path as a walk root: a directory, reached without
// following a symbolic link (see OpenDir).
func OpenRoot(path string) (fd int, root Root, err error) {
	fd, err = OpenDir(path)
	if err != nil {
		var st unix.Stat_t
		if (errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR)) && unix.Lstat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return -1, root, fmt.Errorf("%s is a symbolic link; gomaint does not follow links, name its target instead", path)
		}
		if errors.Is(err, unix.ELOOP) {
			return -1, root, fmt.Errorf("%s: a directory on the way is a symbolic link; gomaint does not follow links, name the real path instead", path)
		}
		return -1, root, fmt.Errorf("open %s: %w", path, err)
	}
	if root, err = RootOf(fd); err != nil {
		unix.Close(fd)
		return -1, root, fmt.Errorf("%s: %w", path, err)
	}
	return fd, root, nil
}

// RootOf describes an already open directory as a walk root.
func RootOf(fd int) (Root, error) {
	var root Root
	if err := Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_STATX_DONT_SYNC, statxMask, &root.Stat); err != nil {
		return root, fmt.Errorf("statx: %w", err)
	}
	if root.Stat.Mask&unix.STATX_MNT_ID != 0 {
		root.Mount = root.Stat.Mnt_id
	}
	if err := unix.Fstatfs(fd, &root.FS); err != nil {
		return root, fmt.Errorf("statfs: %w", err)
	}
	return root, nil
}

// Walk visits every entry below the open directory rootFD. newVisitor is
// called once per worker; the visitors are returned for merging.
func Walk[V Visitor](ctx context.Context, rootFD int, root Root, opt Options, newVisitor func() V) ([]V, error) {
	if opt.Workers <= 0 {
		opt.Workers = 4 * runtime.GOMAXPROCS(0)
	}
	if opt.MaxDepth <= 0 {
		opt.MaxDepth = 2048
	}
	// The walk closes the fds it reads; the caller keeps rootFD. A dup
	// would share rootFD's directory offset, so a second walk would find
	// nothing: open "." again for a fresh one.
	dup, err := unix.Openat(rootFD, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reopen root: %w", err)
	}
	w := &walker{ctx: ctx, opt: opt, dev: devOf(&root.Stat), mount: root.Mount, openat2: openat2Works()}
	w.cond = sync.NewCond(&w.mu)
	w.queue = append(w.queue, &Dir{fd: dup})
	w.pending = 1
	visitors := make([]V, opt.Workers)
	var wg sync.WaitGroup
	for i := range visitors {
		visitors[i] = newVisitor()
		wg.Add(1)
		go func(v V) {
			defer wg.Done()
			LowerIfIdle(ctx)
			w.work(v)
		}(visitors[i])
	}
	wg.Wait()
	return visitors, ctx.Err()
}

type walker struct {
	ctx     context.Context
	opt     Options
	dev     uint64
	mount   uint64
	openat2 bool

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*Dir
	pending int // directories queued or being read
}

// shareBelow: a worker hands a subdirectory to the queue while fewer than
// this many wait, and reads it itself otherwise. This keeps every worker
// busy while bounding open fds and queued memory.
const shareBelow = 64

func (w *walker) work(v Visitor) {
	buf := make([]byte, 32<<10)
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && w.pending > 0 {
			w.cond.Wait()
		}
		if w.pending == 0 {
			w.mu.Unlock()
			return
		}
		d := w.queue[len(w.queue)-1]
		w.queue = w.queue[:len(w.queue)-1]
		w.mu.Unlock()

		w.readDir(v, d, buf)

		w.mu.Lock()
		w.pending--
		if w.pending == 0 {
			w.cond.Broadcast()
		}
		w.mu.Unlock()
	}
}

// child is a subdirectory found while reading its parent, read after the
// parent so that one read buffer serves every level.
type child struct {
	name  string
	class Class
}

// readDir visits the entries of d, then its subdirectories, and closes d.
func (w *walker) readDir(v Visitor, d *Dir, buf []byte) {
	defer unix.Close(d.fd)
	if w.ctx.Err() != nil {
		return
	}
	var subdirs []child
	var e Entry // one per directory: it escapes through Visit
	var counted int64
	err := EachEntry(d.fd, buf, func(name []byte, _ *byte, st *unix.Statx_t, err error) error {
		if err != nil {
			v.Report(d, name, Unreadable, fmt.Errorf("statx: %w", err))
			return nil
		}
		e.Name, e.Stat = name, st
		if w.otherMount(st) {
			v.Report(d, name, OtherMount, nil)
			return nil
		}
		class := v.Visit(d, &e)
		counted++
		if e.IsDir() && class != Skip {
			if d.Depth+1 >= w.opt.MaxDepth {
				v.Report(d, name, TooDeep, fmt.Errorf("nested deeper than %d levels", w.opt.MaxDepth))
				return nil
			}
			subdirs = append(subdirs, child{string(name), class})
		}
		return nil
	})
	if err != nil {
		v.Report(d, nil, Unreadable, err)
	}
	if w.opt.Entries != nil {
		w.opt.Entries.Add(counted)
	}
	for _, c := range subdirs {
		fd, err := w.openChild(d.fd, c.name)
		if err != nil {
			if errors.Is(err, unix.EXDEV) {
				v.Report(d, []byte(c.name), OtherMount, nil)
			} else if !errors.Is(err, unix.ENOENT) {
				v.Report(d, []byte(c.name), Unreadable, err)
			}
			continue
		}
		sub := &Dir{Path: d.Join([]byte(c.name)), Depth: d.Depth + 1, Class: c.class, fd: fd}
		if w.share(sub) {
			continue
		}
		w.readDir(v, sub, buf)
	}
}

// share queues sub for another worker when the queue is short.
func (w *walker) share(sub *Dir) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) >= shareBelow {
		return false
	}
	w.queue = append(w.queue, sub)
	w.pending++
	w.cond.Signal()
	return true
}

func (w *walker) otherMount(st *unix.Statx_t) bool {
	if w.mount != 0 && st.Mask&unix.STATX_MNT_ID != 0 {
		return st.Mnt_id != w.mount
	}
	return devOf(st) != w.dev
}

// openChild opens a subdirectory without following links or leaving the
// mount, and checks again after opening that it is still on the root's mount.
func (w *walker) openChild(dirfd int, name string) (int, error) {
	var fd int
	var err error
	if w.openat2 {
		fd, err = unix.Openat2(dirfd, name, &unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS,
		})
	} else {
		fd, err = unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return -1, fmt.Errorf("open directory: %w", err)
	}
	if !w.openat2 {
		var st unix.Statx_t
		if err := Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_STATX_DONT_SYNC, statxMask, &st); err != nil || w.otherMount(&st) {
			unix.Close(fd)
			return -1, fmt.Errorf("open directory: %w", unix.EXDEV)
		}
	}
	return fd, nil
}

var (
	openat2Once sync.Once
	openat2OK   bool
)

// openat2Works reports whether the kernel has openat2 (Linux 5.6) and the
// seccomp policy lets it through.
func openat2Works() bool {
	openat2Once.Do(func() {
		fd, err := unix.Openat2(unix.AT_FDCWD, "/", &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC})
		if err == nil {
			unix.Close(fd)
			openat2OK = true
		}
	})
	return openat2OK
}

func devOf(st *unix.Statx_t) uint64 { return unix.Mkdev(st.Dev_major, st.Dev_minor) }
