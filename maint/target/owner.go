package target

import (
	"fmt"
	"os"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"
)

// UserOwner returns who owns a user-scope cache whose root is open as the
// directory fd (path names it in errors): the caller, unless the caller is
// root. Root in the user scope works on someone's behalf (`sudo -E gomaint
// fix`), and the caches it was pointed at came from that person's
// environment, so the file system decides, not root's uid:
//
//   - the owner of the cache root, or, when root owns it (`sudo go build`
//     made it), the owner of the directory holding it;
//   - SUDO_UID, when set, must be that user: sudo sets it, but it is only
//     an environment variable, so it may narrow the choice, never widen
//     it to a cache someone else owns;
//   - never root: a cache that root owns, in a directory root owns, is
//     root's own, and is repaired with --system.
func UserOwner(fd int, path string, getenv func(string) string) (uid, gid uint32, err error) {
	if os.Geteuid() != 0 {
		return uint32(os.Getuid()), uint32(os.Getgid()), nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, 0, fmt.Errorf("stat %s: %w", path, err)
	}
	owner, where := st, path
	if st.Uid == 0 {
		pfd, err := unix.Openat(fd, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, 0, fmt.Errorf("open the directory holding %s: %w", path, err)
		}
		err = unix.Fstat(pfd, &owner)
		unix.Close(pfd)
		if err != nil {
			return 0, 0, fmt.Errorf("stat the directory holding %s: %w", path, err)
		}
		where = "the directory holding " + path
	}
	if s := getenv("SUDO_UID"); s != "" {
		sudo, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return 0, 0, fmt.Errorf("SUDO_UID=%q is not a uid", s)
		}
		if sudo != 0 && uint32(sudo) != owner.Uid {
			return 0, 0, fmt.Errorf("%s belongs to %s, not to %s, who ran sudo (SUDO_UID): gomaint gives a cache only to its user; "+
				"run it for that user's own caches, or configure the target with owner = ... and use --system", where, UserName(owner.Uid), UserName(uint32(sudo)))
		}
	}
	if owner.Uid == 0 {
		return 0, 0, fmt.Errorf("%s and the directory holding it belong to root: in the user scope gomaint never gives a cache to root; "+
			"for root's own cache use --system with a target for it", path)
	}
	gid = owner.Gid
	if u, err := user.LookupId(strconv.Itoa(int(owner.Uid))); err == nil {
		if g, err := strconv.ParseUint(u.Gid, 10, 32); err == nil {
			gid = uint32(g) // the user's own group, as go would give new entries
		}
	}
	return owner.Uid, gid, nil
}
