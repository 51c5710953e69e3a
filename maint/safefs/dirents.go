package safefs

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/scan"
)

// DirEntry is one entry of a directory streamed by EachEntry, examined
// with statx(AT_SYMLINK_NOFOLLOW). It is valid only during the callback.
type DirEntry struct {
	Name []byte
	// Stat is the entry's statx; meaningless when Err is set.
	Stat *unix.Statx_t
	// Err is why the entry could not be examined.
	Err error

	root  *Root
	dirfd int
	cname *byte // Name with its NUL, in the getdents buffer
}

// EachEntry streams the entries of the open directory dirfd through fn,
// as scan.EachEntry does, so that fn may remove them without a second
// statx or an allocation per entry. buf is the getdents buffer.
func (r *Root) EachEntry(dirfd int, buf []byte, fn func(e *DirEntry) error) error {
	e := DirEntry{root: r, dirfd: dirfd}
	return scan.EachEntry(dirfd, buf, func(name []byte, cname *byte, st *unix.Statx_t, err error) error {
		e.Name, e.cname, e.Stat, e.Err = name, cname, st, err
		if err != nil {
			e.Err = fmt.Errorf("statx %s: %w", name, err)
		}
		return fn(&e)
	})
}

// IsDir reports whether the entry is a directory (a link never is).
func (e *DirEntry) IsDir() bool { return e.Err == nil && e.Stat.Mode&unix.S_IFMT == unix.S_IFDIR }

// Remove removes the non-directory entry. It trusts the statx EachEntry
// made for the type and the mount, spending no second one: unlinkat on
// the directory's fd never follows a link nor removes a directory, so a
// name swapped in since can only be a name in that directory.
func (e *DirEntry) Remove() error {
	switch {
	case e.Err != nil:
		return e.Err
	case !e.root.SameMount(e.Stat):
		return fmt.Errorf("remove %s: %w", e.Name, ErrOtherMount)
	case e.Stat.Mode&unix.S_IFMT == unix.S_IFDIR:
		return fmt.Errorf("remove %s: %w", e.Name, unix.EISDIR)
	}
	if errno := unlinkAt(e.dirfd, e.cname, 0); errno != 0 {
		return errno
	}
	return nil
}

// unlinkAt is unlinkat(2) on a NUL-terminated name already in memory.
func unlinkAt(dirfd int, name *byte, flags int) unix.Errno {
	_, _, errno := unix.Syscall(unix.SYS_UNLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)), uintptr(flags))
	return errno
}

// FD is the directory the entry is in, for removing a directory entry
// with Root.RemoveTree.
func (e *DirEntry) FD() int { return e.dirfd }
