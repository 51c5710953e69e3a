package config

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"
)

// readTrusted reads a configuration file that only those gomaint already
// trusts can have written. The configuration names the trees gomaint
// changes as root, so a file another user can write is a way to root.
//
// The test is on the open file, the very inode read (a symlink is followed,
// and what it reaches must pass): its owner must be root or the user
// gomaint runs as (only root when it runs as root, whatever the scope), it
// must not be writable by every user, and when gomaint runs as root not by
// a group other than root's either. A user's own group may write their
// user-scope file: with a group per user, as Debian makes them, that is
// the user alone. The directory is not checked: another user who can
// replace the file leaves one they own, which the owner test refuses.
func readTrusted(file string) ([]byte, *unix.Stat_t, error) {
	// O_NONBLOCK: a FIFO put in the file's place must not hang the daemon.
	f, err := os.OpenFile(file, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, nil, err
	}
	if reason := untrusted(file, &st, os.Geteuid()); reason != "" {
		return nil, nil, &Error{File: file, Reason: reason}
	}
	data, err := io.ReadAll(f)
	return data, &st, err
}

// untrusted says why a file with st may not configure a gomaint running as
// euid, with the command that fixes it; "" when it may.
func untrusted(file string, st *unix.Stat_t, euid int) string {
	mode := st.Mode & 0o7777
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return "refused: not a regular file; point --config at a regular file"
	case st.Uid != 0 && int(st.Uid) != euid:
		who := "root or uid " + strconv.Itoa(euid) + " (the user gomaint runs as)"
		if euid == 0 {
			who = "root (gomaint runs as root and trusts no one else's file)"
		}
		return fmt.Sprintf("refused: owned by %s, but only a file owned by %s may configure gomaint; fix: check its contents, then sudo chown root %s",
			userName(st.Uid), who, file)
	case mode&0o002 != 0:
		return fmt.Sprintf("refused: writable by every user (mode %04o), who could make gomaint change any tree; fix: chmod o-w %s", mode, file)
	case euid == 0 && mode&0o020 != 0 && st.Gid != 0:
		return fmt.Sprintf("refused: writable by group %s (mode %04o), and gomaint runs as root; fix: chmod g-w %s", groupName(st.Gid), mode, file)
	}
	return ""
}

func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return "user " + u.Username + " (uid " + id + ")"
	}
	return "uid " + id
}

func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name + " (gid " + id + ")"
	}
	return "gid " + id
}
