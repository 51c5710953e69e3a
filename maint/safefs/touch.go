package safefs

import (
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Touch sets the mtime of name in dirfd to t and leaves its atime. It is
// how the daemon records use of an entry in a shared build cache, whose
// users cannot refresh entries they do not own. The same checks as SetAttr
// apply: no link followed, no hard-linked file, nothing on another mount.
func (r *Root) Touch(dirfd int, name string, t time.Time) error {
	fd, _, err := r.openChecked(dirfd, name, false)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, unix.NsecToTimespec(t.UnixNano())}
	// utimensat has no form for an O_PATH fd; /proc/self/fd/N names the
	// checked inode itself, as in SetAttr.
	return unix.UtimesNanoAt(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), ts, 0)
}
