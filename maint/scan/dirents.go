package scan

import (
	"bytes"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// EachEntry streams the entries of the open directory fd (without . and
// ..) through fn, each examined with statx(AT_SYMLINK_NOFOLLOW) on the name
// already in the getdents buffer: no allocation per entry, so a walk or a
// trim of a million entries spends its time in the kernel, not in making
// strings. buf is the getdents buffer, reused by one caller.
//
// fn gets the name, the same name NUL-terminated in buf (for another *at
// call), and the statx, or statErr when statx failed; an entry removed
// since it was listed is skipped. All three are valid only during the
// call. fn may remove the entry it is given: getdents keeps its place by
// hash or offset, not by the entries already returned. An error from fn
// stops the stream and is returned as is; a failed read is returned
// wrapped.
func EachEntry(fd int, buf []byte, fn func(name []byte, cname *byte, st *unix.Statx_t, statErr error) error) error {
	var st unix.Statx_t
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
			start := off + 19
			name := buf[start : off+reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			off += reclen
			if isDots(name) {
				continue
			}
			serr := statxAt(fd, &buf[start], &st)
			if serr == unix.ENOENT {
				continue
			}
			if err := fn(name, &buf[start], &st, serr); err != nil {
				return err
			}
		}
	}
}

// statxAt is statx(2) on a NUL-terminated name already in memory.
func statxAt(dirfd int, name *byte, st *unix.Statx_t) error {
	_, _, errno := unix.Syscall6(unix.SYS_STATX, uintptr(dirfd), uintptr(unsafe.Pointer(name)),
		uintptr(statxFlags), uintptr(statxMask), uintptr(unsafe.Pointer(st)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

func isDots(name []byte) bool {
	return (len(name) == 1 && name[0] == '.') || (len(name) == 2 && name[0] == '.' && name[1] == '.')
}
