// Package rundir makes gomaint's runtime directory (the control socket's)
// and the lock directory in it, and refuses either when someone else
// could write it (docs/design.md, safety 14). Where they are is
// maint/paths's to say.
package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Make makes dir, the runtime directory, and checks it as open does.
// Others may enter it (0755): the control socket in it is for them.
func Make(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("runtime directory: %w", err)
	}
	fd, err := open(dir, "runtime directory", false)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

// OpenLocks makes dir, the lock directory, and the runtime directory
// above it, and returns dir open, private to gomaint's user: flock needs
// only read access, so whoever could enter it could hold our locks.
func OpenLocks(dir string) (int, error) {
	// The runtime directory above is the control socket's too, which
	// others must reach: only the lock directory itself is private.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return -1, fmt.Errorf("runtime directory: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return -1, fmt.Errorf("lock directory: %w", err)
	}
	return open(dir, "lock directory", true)
}

// open opens dir, refusing one that someone else could write: they could
// hold our locks, or remove them and let two runs work on one cache at
// once, or swap the control socket for a link that the daemon's chmod
// would follow. It matters for a name in /tmp, which anyone can take
// first; /run/gomaint and $XDG_RUNTIME_DIR/gomaint pass. A private
// directory is also one others cannot enter: ours is made so (0700) if it
// is not yet, one that root owns for us must be so already. what names the
// directory in errors.
func open(dir, what string, private bool) (int, error) {
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("%s %s: %w", what, dir, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(dfd, &st); err != nil {
		unix.Close(dfd)
		return -1, fmt.Errorf("%s %s: %w", what, dir, err)
	}
	if euid := os.Geteuid(); (int(st.Uid) != euid && st.Uid != 0) || st.Mode&0o022 != 0 {
		unix.Close(dfd)
		return -1, fmt.Errorf("%s %s is owned by uid %d with mode %04o; gomaint (uid %d) uses only a directory "+
			"that it or root owns and no one else can write: remove it, or set XDG_RUNTIME_DIR", what, dir, st.Uid, st.Mode&0o7777, euid)
	}
	if private && st.Mode&0o077 != 0 {
		var err error = unix.EPERM
		if int(st.Uid) == os.Geteuid() {
			err = unix.Fchmod(dfd, 0o700)
		}
		if err != nil {
			unix.Close(dfd)
			return -1, fmt.Errorf("%s %s has mode %04o and cannot be made private (0700): %w; "+
				"remove it and gomaint makes it anew", what, dir, st.Mode&0o7777, err)
		}
	}
	return dfd, nil
}
