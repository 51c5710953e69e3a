package target

import (
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LinkError refuses a cache path that passes through a symbolic link in a
// directory that someone other than root (and the caller) controls: that
// person chose where the link points, so following it as root would let
// them aim a fix, an audit or a clean at any directory.
type LinkError struct {
	Link    string // the symbolic link
	LinkUID uint32 // who made it
	// Dir is the first directory on the path that another user controls
	// (owns, or may write), and DirUID its owner.
	Dir    string
	DirUID uint32
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("%s is a symbolic link (owner %s) below %s, which %s controls; gomaint follows only links that no one but root "+
		"could have made: configure the real directory instead", e.Link, UserName(e.LinkUID), e.Dir, controller(e.DirUID))
}

func controller(uid uint32) string {
	if uid == 0 {
		return "anyone who may write it"
	}
	return UserName(uid)
}

// UserName returns "name" for a uid, or "uid N" when it has no name.
func UserName(uid uint32) string {
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(int(uid))
}

// maxLinks is the kernel's own limit on links followed in one path walk.
const maxLinks = 40

// dir is one directory of the path walked so far.
type dir struct {
	fd   int
	path string
	// trusted: no one but root (or the caller) can change what this
	// directory holds, nor could anyone else have changed any directory
	// above it.
	trusted bool
}

// walk resolves the absolute path one component at a time, each opened
// relative to its parent with O_NOFOLLOW (Path trust, docs/security.md):
// while every directory so far is trusted, a symbolic link is read and
// followed, since only root could have made it; from the first directory
// another user controls on, a link refuses the path with a *LinkError.
// Directories the caller (euid) owns count as root's: it may follow its
// own links. It returns the real path, symlink-free, and whether it exists.
func walk(path string, euid uint32) (string, bool, error) {
	rootFD, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", false, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(rootFD, &st); err != nil {
		unix.Close(rootFD)
		return "", false, err
	}
	stack := []dir{{rootFD, "/", trusts(&st, euid)}}
	// untrusted is the first directory another user controls.
	var untrusted string
	var untrustedUID uint32
	if !stack[0].trusted {
		untrusted, untrustedUID = "/", st.Uid
	}
	defer func() {
		for _, d := range stack {
			unix.Close(d.fd)
		}
	}()
	rest := split(filepath.Clean(path))
	links := 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		cur := stack[len(stack)-1]
		switch name {
		case ".":
			continue
		case "..": // only from a trusted link's target: step back physically
			if len(stack) > 1 {
				unix.Close(cur.fd)
				stack = stack[:len(stack)-1]
			}
			continue
		}
		here := filepath.Join(cur.path, name)
		// O_PATH|O_NOFOLLOW opens a link itself: the inode examined is the
		// one then read or entered, whatever is renamed meanwhile. A
		// directory is asked for first, as O_DIRECTORY triggers an
		// automount (an NFS home) that a bare O_PATH would not.
		fd, err := unix.Openat(cur.fd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOTDIR) { // a link, or a file
			fd, err = unix.Openat(cur.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		if errors.Is(err, unix.ENOENT) {
			return filepath.Join(append([]string{here}, rest...)...), false, nil // go creates it on first use
		}
		if err != nil {
			return "", false, fmt.Errorf("open %s: %w", here, err)
		}
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return "", false, fmt.Errorf("stat %s: %w", here, err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			to, err := readlink(fd)
			unix.Close(fd)
			switch {
			case err != nil:
				return "", false, fmt.Errorf("read link %s: %w", here, err)
			case !cur.trusted:
				return "", false, &LinkError{Link: here, LinkUID: st.Uid, Dir: untrusted, DirUID: untrustedUID}
			case links >= maxLinks:
				return "", false, fmt.Errorf("%s: %w", path, unix.ELOOP)
			}
			links++
			if filepath.IsAbs(to) {
				for _, d := range stack[1:] {
					unix.Close(d.fd)
				}
				stack = stack[:1]
			}
			rest = append(split(to), rest...)
		case unix.S_IFDIR:
			d := dir{fd, here, cur.trusted && trusts(&st, euid)}
			if cur.trusted && !d.trusted {
				untrusted, untrustedUID = here, st.Uid
			}
			stack = append(stack, d)
		default:
			unix.Close(fd)
			return "", false, fmt.Errorf("%s: %w", here, unix.ENOTDIR)
		}
	}
	return stack[len(stack)-1].path, true, nil
}

// trusts reports whether a directory's entries are root's (or the
// caller's) alone: owned by root or the caller, writable by no group and
// no one else. With POSIX ACLs the group bits are the mask, which bounds
// every named user and group, so they need no look of their own.
func trusts(st *unix.Stat_t, euid uint32) bool {
	return (st.Uid == 0 || st.Uid == euid) && st.Mode&0o022 == 0
}

func split(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// readlink reads the link open as the O_PATH fd.
func readlink(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}
