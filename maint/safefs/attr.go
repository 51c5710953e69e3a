package safefs

import (
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/scan"
)

// ErrHardlinked is returned for a regular file with more than one link:
// it may be a link to a file outside the cache, so its owner and mode are
// never changed (docs/design.md, safety 3).
var ErrHardlinked = errors.New("has more than one hard link; left alone")

// ErrNotFileOrDir is returned for devices, fifos and sockets.
var ErrNotFileOrDir = errors.New("is not a regular file, directory or link; left alone")

// Attr is what SetAttr may change.
type Attr struct {
	UID, GID int    // -1 leaves it
	Mode     uint32 // permission bits; ignored for links; NoMode leaves it
}

// NoMode leaves the mode as it is.
const NoMode = ^uint32(0)

// ErrSpecialMode is returned for a mode with setuid, setgid or sticky on
// a file, or setuid or sticky on a directory: no Go cache needs them, and
// as root they would be a way to privileges.
var ErrSpecialMode = errors.New("setuid, setgid and sticky bits are never set (only setgid, on directories)")

// SetAttr changes the owner and mode of name in dirfd. It opens the entry
// with O_PATH|O_NOFOLLOW and checks that very inode (type, link count,
// mount) before changing it through the fd, so a name swapped for a link
// or a hard link in between is never followed.
//
// A file given to another owner loses its setuid and setgid bits before
// the chown, not after (the kernel clears them on chown only in some
// cases), so at no moment does it have them under its new owner, root
// included.
func (r *Root) SetAttr(dirfd int, name string, a Attr) error {
	fd, st, err := r.openChecked(dirfd, name, true)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	typ := st.Mode & unix.S_IFMT
	if a.Mode != NoMode && ((typ == unix.S_IFDIR && a.Mode&0o5000 != 0) || (typ == unix.S_IFREG && a.Mode&0o7000 != 0)) {
		return fmt.Errorf("chmod %04o: %w", a.Mode, ErrSpecialMode)
	}
	if (a.UID >= 0 && uint32(a.UID) != st.Uid) || (a.GID >= 0 && uint32(a.GID) != st.Gid) {
		if typ == unix.S_IFREG && st.Mode&0o6000 != 0 {
			if err := chmodFD(fd, uint32(st.Mode)&0o1777&^0o6000); err != nil {
				return err
			}
		}
		// AT_EMPTY_PATH on an O_PATH fd: the inode checked above, a link
		// itself rather than its target.
		if err := unix.Fchownat(fd, "", a.UID, a.GID, unix.AT_EMPTY_PATH); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
		// chown may clear setuid/setgid bits: compare the mode afresh.
		if err := scan.Statx(fd, "", unix.AT_EMPTY_PATH, statMask, &st); err != nil {
			return err
		}
	}
	if a.Mode != NoMode && typ != unix.S_IFLNK && uint32(st.Mode)&0o7777 != a.Mode {
		if err := chmodFD(fd, a.Mode); err != nil {
			return err
		}
	}
	return nil
}

// chmodFD changes the mode of the inode open as the O_PATH fd. chmod has
// no fd form for O_PATH; /proc/self/fd/N names exactly the open inode and
// is resolved by the kernel, not by a path walk.
func chmodFD(fd int, mode uint32) error {
	if err := unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), mode); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return nil
}

// openChecked opens name in dirfd with O_PATH|O_NOFOLLOW and checks that
// inode: on the root's mount, not a hard-linked file, and a file, a
// directory or (when links is set) a symbolic link itself.
func (r *Root) openChecked(dirfd int, name string, links bool) (int, unix.Statx_t, error) {
	var st unix.Statx_t
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, st, err
	}
	if err := scan.Statx(fd, "", unix.AT_EMPTY_PATH, statMask, &st); err != nil {
		unix.Close(fd)
		return -1, st, err
	}
	typ := st.Mode & unix.S_IFMT
	switch {
	case !r.SameMount(&st):
		err = ErrOtherMount
	case typ == unix.S_IFREG && st.Nlink > 1:
		err = ErrHardlinked
	case typ != unix.S_IFREG && typ != unix.S_IFDIR && !(links && typ == unix.S_IFLNK):
		err = ErrNotFileOrDir
	}
	if err != nil {
		unix.Close(fd)
		return -1, st, err
	}
	return fd, st, nil
}
