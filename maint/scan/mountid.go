package scan

import (
	"golang.org/x/sys/unix"
)

// Statx is statx(2) that also gives the mount id where the kernel does not
// (STATX_MNT_ID is Linux 5.8, so RHEL 8's 4.18 lacks it, and qemu's user
// emulation drops it), from name_to_handle_at(2), Linux 2.6.39. Without a
// mount id, a bind mount of the cache's own file system inside the cache
// has the cache's device, and a walk or a removal would enter it.
func Statx(dirfd int, path string, flags, mask int, st *unix.Statx_t) error {
	if err := unix.Statx(dirfd, path, flags, mask, st); err != nil {
		return err
	}
	fillMountID(dirfd, path, flags, mask, st)
	return nil
}

// fillMountID adds the mount id to st when it was asked for and not given,
// or given as 0 (qemu passes the mask bit through but not the field;
// gomaint takes 0 for unknown everywhere). A file system that gives no
// handles (EOPNOTSUPP) gives no mount id either: then only the device
// tells mounts apart, as before. The id may belong to a name swapped since
// the statx; every descent opens the name and checks the open fd again,
// and that check is what holds.
func fillMountID(dirfd int, path string, flags, mask int, st *unix.Statx_t) {
	if mask&unix.STATX_MNT_ID == 0 || (st.Mask&unix.STATX_MNT_ID != 0 && st.Mnt_id != 0) {
		return
	}
	hflags := flags & unix.AT_EMPTY_PATH
	if flags&unix.AT_SYMLINK_NOFOLLOW == 0 {
		hflags |= unix.AT_SYMLINK_FOLLOW
	}
	if _, mnt, err := unix.NameToHandleAt(dirfd, path, hflags); err == nil {
		st.Mnt_id = uint64(mnt)
		st.Mask |= unix.STATX_MNT_ID
	}
}
