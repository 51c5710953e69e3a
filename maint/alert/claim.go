package alert

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Two senders (the service and a person's `gomaint alert flush`) may work
// on one spool. While one attempts an entry it holds a flock on the
// entry's file, so the other never attempts it at the same time; and since
// an entry is rewritten by a rename (a new inode), the holder checks after
// locking that the name still is the file it locked, and reads the entry
// from that file: what it attempts is what is there now, not what it
// listed before another sender delivered or rescheduled it.
var (
	errBusy = errors.New("another sender is attempting it")
	errGone = errors.New("delivered, dropped or rescheduled meanwhile")
)

// claim opens the entry file name in the spool open at dfd and locks it
// for one attempt; release unlocks it. errBusy: another sender holds it;
// errGone: it changed since it was listed.
func claim(dfd int, name string) (e *Entry, release func(), err error) {
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil, errGone
	}
	if err != nil {
		return nil, nil, fmt.Errorf("alert spool: %s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, nil, errBusy
		}
		return nil, nil, fmt.Errorf("alert spool: lock %s: %w", name, err)
	}
	var held, now unix.Stat_t
	if err := unix.Fstat(fd, &held); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("alert spool: %s: %w", name, err)
	}
	if err := unix.Fstatat(dfd, name, &now, unix.AT_SYMLINK_NOFOLLOW); err != nil || now.Ino != held.Ino || now.Dev != held.Dev {
		f.Close()
		return nil, nil, errGone
	}
	e, err = decodeEntry(f, name)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("alert spool: %s: %w", name, err)
	}
	return e, func() { f.Close() }, nil
}
