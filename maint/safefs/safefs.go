// Package safefs makes every change gomaint makes inside a cache, and
// writes gomaint's own files atomically (WriteAtomic).
//
// gomaint runs as root over trees other users can write, so every change
// inside a cache is made relative to an open directory fd of the cache root
// (a Root), never through a path string (docs/design.md, safety 1 to 3):
//   - directories are opened with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|
//     RESOLVE_NO_XDEV) where the kernel has it, else one component at a time
//     with O_NOFOLLOW and a mount-id check after each open;
//   - entries are examined with statx(AT_SYMLINK_NOFOLLOW) and removed with
//     unlinkat on their parent's fd, so a link is removed, never followed;
//   - an entry's owner, mode, ACL or mtime is changed through an
//     O_PATH|O_NOFOLLOW fd of the very inode checked, never on a file with
//     more than one hard link, never to setuid or sticky, and to setgid
//     only on a directory;
//   - nothing on another mount (a bind mount included) is entered or changed.
//
// The rule: no code outside this package changes anything inside a cache.
// Outside caches gomaint writes only its own files, each in one place: the
// metrics textfile, the daemon's status files and verify's state (with
// WriteAtomic), the lock files and runtime directories (package lock), the
// control socket (package daemon) and the tmpfiles.d exclusions
// (protect.Apply); see docs/design.md, "What gomaint writes".
package safefs

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/scan"
)

// ErrOtherMount is returned for an entry on another mount than the root's.
var ErrOtherMount = errors.New("on another mount; not entered")

// Root is an open target root.
type Root struct {
	FD    int
	Path  string
	mount uint64
	dev   uint64
}

const statMask = unix.STATX_TYPE | unix.STATX_MODE | unix.STATX_NLINK | unix.STATX_UID | unix.STATX_MTIME |
	unix.STATX_ATIME | unix.STATX_CTIME | unix.STATX_SIZE | unix.STATX_BLOCKS | unix.STATX_MNT_ID

// OpenRoot opens path, a directory reached without following a symbolic
// link (scan.OpenDir says why).
func OpenRoot(path string) (*Root, error) {
	fd, err := scan.OpenDir(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var st unix.Statx_t
	if err := scan.Statx(fd, "", unix.AT_EMPTY_PATH, statMask, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("statx %s: %w", path, err)
	}
	r := &Root{FD: fd, Path: path, dev: unix.Mkdev(st.Dev_major, st.Dev_minor)}
	if st.Mask&unix.STATX_MNT_ID != 0 {
		r.mount = st.Mnt_id
	}
	return r, nil
}

// Mount is the root's mount id, 0 when the kernel cannot tell (for
// scan.Subtree, which then compares nothing).
func (r *Root) Mount() uint64 { return r.mount }

// Close closes the root fd.
func (r *Root) Close() error { return unix.Close(r.FD) }

// SameMount reports whether st, from a statx asking for STATX_MNT_ID,
// lies on the root's mount.
func (r *Root) SameMount(st *unix.Statx_t) bool {
	if r.mount != 0 && st.Mask&unix.STATX_MNT_ID != 0 {
		return st.Mnt_id == r.mount
	}
	return unix.Mkdev(st.Dev_major, st.Dev_minor) == r.dev
}

// Stat examines name in dirfd without following a link.
func (r *Root) Stat(dirfd int, name string) (unix.Statx_t, error) {
	var st unix.Statx_t
	err := scan.Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, statMask, &st)
	return st, err
}

// OpenDir opens the directory rel (slash-separated, relative to the root)
// beneath the root, without following links or leaving the root's mount.
func (r *Root) OpenDir(rel string) (int, error) {
	if rel == "" || rel == "." {
		// Not a dup: that would share the root's directory offset.
		return unix.Openat(r.FD, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if strings.HasPrefix(rel, "/") {
		return -1, fmt.Errorf("open %s: not relative to %s", rel, r.Path)
	}
	return r.openBeneath(r.FD, rel)
}

// OpenChild opens the subdirectory name of dirfd, like OpenDir.
func (r *Root) OpenChild(dirfd int, name string) (int, error) {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return -1, fmt.Errorf("open %q: not a plain name", name)
	}
	return r.openBeneath(dirfd, name)
}

func (r *Root) openBeneath(dirfd int, rel string) (int, error) {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat2(dirfd, rel, &unix.OpenHow{Flags: flags,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS})
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.EXDEV):
		return -1, fmt.Errorf("open %s: %w", rel, ErrOtherMount)
	case !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM):
		return -1, fmt.Errorf("open %s: %w", rel, err)
	}
	// No openat2 (Linux < 5.6, or filtered): one component at a time.
	cur, err := unix.FcntlInt(uintptr(dirfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	for _, part := range strings.Split(rel, "/") {
		if part == "" || part == "." || part == ".." {
			unix.Close(cur)
			return -1, fmt.Errorf("open %s: %q is not allowed in a path beneath the root", rel, part)
		}
		next, err := unix.Openat(cur, part, flags, 0)
		unix.Close(cur)
		if err != nil {
			return -1, fmt.Errorf("open %s: %w", rel, err)
		}
		var st unix.Statx_t
		if err := scan.Statx(next, "", unix.AT_EMPTY_PATH, statMask, &st); err != nil || !r.SameMount(&st) {
			unix.Close(next)
			return -1, fmt.Errorf("open %s: %w", rel, ErrOtherMount)
		}
		cur = next
	}
	return cur, nil
}

// Remove removes the non-directory name from dirfd (a link is removed
// itself). It refuses entries on another mount.
func (r *Root) Remove(dirfd int, name string) error {
	st, err := r.Stat(dirfd, name)
	if err != nil {
		return err
	}
	if !r.SameMount(&st) {
		return fmt.Errorf("remove %s: %w", name, ErrOtherMount)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("remove %s: %w", name, unix.EISDIR)
	}
	return unix.Unlinkat(dirfd, name, 0)
}

// ReadNames lists a directory's entries (without . and ..).
func ReadNames(fd int) ([]string, error) {
	var names []string
	buf := make([]byte, 8<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return nil, fmt.Errorf("read directory: %w", err)
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

// OpenFile opens (with unix.O_CREAT, creates) the regular file name in
// dirfd, never through a link. A file created as root is given to the
// owner of its directory: a root-owned lock file in a user's cache would
// make that user's go commands fail.
func (r *Root) OpenFile(dirfd int, name string, flags int) (int, error) {
	const always = unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
	create := flags&unix.O_CREAT != 0
	open := flags &^ unix.O_CREAT
	if flags&unix.O_ACCMODE == unix.O_RDONLY {
		// gomaint's reads (verify hashes every module file) must not make
		// an entry look used: module versions are aged by atime. O_NOATIME
		// needs the file's owner or CAP_FOWNER; without either, the read
		// goes on with it, as go's own would.
		open |= unix.O_NOATIME
	}
	fd, err := unix.Openat(dirfd, name, open|always, 0)
	if errors.Is(err, unix.EPERM) && open&unix.O_NOATIME != 0 {
		fd, err = unix.Openat(dirfd, name, (open&^unix.O_NOATIME)|always, 0)
	}
	created := false
	if errors.Is(err, unix.ENOENT) && create {
		fd, err = unix.Openat(dirfd, name, flags|unix.O_EXCL|always, 0o666)
		created = err == nil
	}
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", name, err)
	}
	var st unix.Statx_t
	if err := scan.Statx(fd, "", unix.AT_EMPTY_PATH, statMask, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || !r.SameMount(&st) {
		unix.Close(fd)
		return -1, fmt.Errorf("open %s: not a regular file on the cache's mount", name)
	}
	if created && unix.Geteuid() == 0 {
		var dir unix.Statx_t
		if err := unix.Statx(dirfd, "", unix.AT_EMPTY_PATH, unix.STATX_UID|unix.STATX_GID, &dir); err == nil {
			if err := unix.Fchown(fd, int(dir.Uid), int(dir.Gid)); err != nil {
				unix.Close(fd)
				return -1, fmt.Errorf("give %s to its directory's owner: %w", name, err)
			}
		}
	}
	return fd, nil
}
