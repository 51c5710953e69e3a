package watch

import (
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// addWatch watches the directory open at fd for the inotify instance ifd.
// inotify_add_watch takes a path; /proc/self/fd/N is resolved by the
// kernel to exactly the directory that was opened beneath the root, so no
// path walk can be redirected.
func addWatch(ifd, fd int, mask uint32) (int32, error) {
	wd, err := unix.InotifyAddWatch(ifd, "/proc/self/fd/"+strconv.Itoa(fd), mask)
	return int32(wd), err
}

// eachEvent calls fn for every whole event in buf, as read from an
// inotify instance, with the event's name without its NUL padding (empty
// for an event on the watched directory itself). An error from fn stops
// it and is returned.
func eachEvent(buf []byte, fn func(wd int32, mask uint32, name []byte) error) error {
	for len(buf) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[0]))
		end := unix.SizeofInotifyEvent + int(ev.Len)
		if end > len(buf) {
			return nil
		}
		name := buf[unix.SizeofInotifyEvent:end]
		for len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		buf = buf[end:]
		if err := fn(ev.Wd, ev.Mask, name); err != nil {
			return err
		}
	}
	return nil
}
