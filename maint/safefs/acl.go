package safefs

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// POSIX ACLs as the kernel stores them in the system.posix_acl_access and
// system.posix_acl_default xattrs: a version word, then (tag, perm, id)
// entries sorted by tag and id.
const (
	aclVersion  = 2
	aclUserObj  = 0x01
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20
	aclNoID     = ^uint32(0)
)

// groupACL encodes owner, owning group and other from mode, plus rwx (rw
// for a file) for gid, with a mask that lets it through.
func groupACL(mode uint32, gid uint32, dir bool) []byte {
	grp := uint16(6)
	if dir {
		grp = 7
	}
	entries := []struct {
		tag, perm uint16
		id        uint32
	}{
		{aclUserObj, uint16(mode>>6) & 7, aclNoID},
		{aclGroupObj, uint16(mode>>3) & 7, aclNoID},
		{aclGroup, grp, gid},
		{aclMask, grp | uint16(mode>>3)&7, aclNoID},
		{aclOther, uint16(mode) & 7, aclNoID},
	}
	b := binary.LittleEndian.AppendUint32(nil, aclVersion)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

// SetGroupACL gives gid read-write access to name in dirfd through its
// access ACL, and for a directory also through its default ACL, so that
// entries created in it later are group-writable whatever the creator's
// umask. Like SetAttr it works on the checked inode, never through a link.
func (r *Root) SetGroupACL(dirfd int, name string, gid uint32) error {
	fd, st, err := r.openChecked(dirfd, name, false)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	dir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	acl := groupACL(uint32(st.Mode), gid, dir)
	proc := "/proc/self/fd/" + strconv.Itoa(fd) // the open inode, as for chmod
	if err := unix.Setxattr(proc, "system.posix_acl_access", acl, 0); err != nil {
		return fmt.Errorf("set ACL: %w", err)
	}
	if dir {
		if err := unix.Setxattr(proc, "system.posix_acl_default", groupACL(uint32(st.Mode), gid, true), 0); err != nil {
			return fmt.Errorf("set default ACL: %w", err)
		}
	}
	return nil
}

// HasGroupACL reports whether name carries an ACL entry for gid (and, for
// a directory, a default ACL with one).
func (r *Root) HasGroupACL(dirfd int, name string, dir bool, gid uint32) bool {
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	proc := "/proc/self/fd/" + strconv.Itoa(fd)
	attrs := []string{"system.posix_acl_access"}
	if dir {
		attrs = append(attrs, "system.posix_acl_default")
	}
	buf := make([]byte, 256)
	for _, a := range attrs {
		n, err := unix.Getxattr(proc, a, buf)
		if err != nil || !aclHasGroup(buf[:n], gid) {
			return false
		}
	}
	return true
}

func aclHasGroup(b []byte, gid uint32) bool {
	for off := 4; off+8 <= len(b); off += 8 {
		if binary.LittleEndian.Uint16(b[off:]) == aclGroup && binary.LittleEndian.Uint32(b[off+4:]) == gid {
			return true
		}
	}
	return false
}
