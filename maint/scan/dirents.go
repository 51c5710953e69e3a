package scan

import (
	"bytes"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// EachName streams the names in the open directory fd (without . and ..)
// through fn, read with getdents64 into buf, which one caller reuses. fn
// gets the name, the same name NUL-terminated in buf (for an *at call with
// no allocation), and the type getdents reports (unix.DT_DIR, DT_REG, ...;
// DT_UNKNOWN where the file system does not say). Both are valid only
// during the call. fn may remove the entry it is given: getdents keeps its
// place by hash or offset, not by the entries already returned. An error
// from fn stops the stream and is returned as is; a failed read is
// returned wrapped.
func EachName(fd int, buf []byte, fn func(name []byte, cname *byte, dtype uint8) error) error {
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return fmt.Errorf("read directory: %w", err)
		}
		if n <= 0 {
			return nil
		}
		for off := 0; off < n; {
			// struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
			// The kernel puts a NUL after each name.
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[off+16])))
			dtype := buf[off+18]
			start := off + 19
			name := buf[start : off+reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			off += reclen
			if isDots(name) {
				continue
			}
			if err := fn(name, &buf[start], dtype); err != nil {
				return err
			}
		}
	}
}

// EachEntry is EachName with each entry examined by statx
// (AT_SYMLINK_NOFOLLOW) on the name in buf: no allocation per entry, so a
// walk or a trim of a million entries spends its time in the kernel, not
// in making strings. fn gets the statx, or statErr when statx failed; an
// entry removed since it was listed is skipped.
func EachEntry(fd int, buf []byte, fn func(name []byte, cname *byte, st *unix.Statx_t, statErr error) error) error {
	var st unix.Statx_t
	return EachName(fd, buf, func(name []byte, cname *byte, _ uint8) error {
		err := statxAt(fd, cname, &st)
		if err == unix.ENOENT {
			return nil
		}
		return fn(name, cname, &st, err)
	})
}

// statxAt is statx(2) on a NUL-terminated name already in memory.
func statxAt(dirfd int, name *byte, st *unix.Statx_t) error {
	_, _, errno := unix.Syscall6(unix.SYS_STATX, uintptr(dirfd), uintptr(unsafe.Pointer(name)),
		uintptr(statxFlags), uintptr(statxMask), uintptr(unsafe.Pointer(st)), 0)
	if errno != 0 {
		return errno
	}
	if st.Mask&unix.STATX_MNT_ID == 0 || st.Mnt_id == 0 {
		fillMountID(dirfd, unix.BytePtrToString(name), statxFlags, statxMask, st)
	}
	return nil
}

func isDots(name []byte) bool {
	return (len(name) == 1 && name[0] == '.') || (len(name) == 2 && name[0] == '.' && name[1] == '.')
}
