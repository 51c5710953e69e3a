package safefs

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/scan"
)

// RemoveTree removes the directory name of dirfd and everything in it,
// making read-only directories writable first (as go's module cache
// needs). It stops at the first error.
//
// It needs no statx per file: files go by unlinkat alone, which never
// follows a link, cannot remove a directory (EISDIR: then it is entered as
// one) nor a file mounted over (EBUSY), and directories are entered only
// through OpenChild, which refuses links and other mounts.
//
// Depth is not bounded: a tree nested thousands of levels deep (never
// Go's, but anyone can make one) goes like a shallow one. The first
// keptFDs levels keep their fd open; below them the walk climbs back
// through "..", and goes on only if that is the very directory (device
// and inode) it came down from.
func (r *Root) RemoveTree(dirfd int, name string) error {
	fd, err := r.OpenChild(dirfd, name)
	if err != nil {
		return err
	}
	t := treeRemover{r: r, buf: make([]byte, 8<<10)}
	err = t.run(fd, name)
	if err == nil {
		err = unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// keptFDs is how many levels of a tree being removed keep an open fd, so
// that the usual shallow tree costs no extra open per directory.
const keptFDs = 32

type treeRemover struct {
	r     *Root
	buf   []byte
	stack []level // the directories from the top of the tree down to the current one
}

// level is one directory on the way down.
type level struct {
	name     string
	dev, ino uint64
	parentFD int      // the directory above, -1 once closed (below keptFDs)
	subdirs  []string // left to enter
}

// run empties the tree whose top directory is open as fd, and closes fd.
func (t *treeRemover) run(fd int, name string) (err error) {
	defer func() {
		unix.Close(fd)
		for _, l := range t.stack {
			if l.parentFD >= 0 {
				unix.Close(l.parentFD)
			}
		}
		if err != nil {
			err = fmt.Errorf("%s%w", t.where(), err)
		}
	}()
	if err := t.enter(fd, name, -1); err != nil {
		return err
	}
	for {
		cur := &t.stack[len(t.stack)-1]
		if n := len(cur.subdirs); n > 0 {
			sub := cur.subdirs[n-1]
			cur.subdirs = cur.subdirs[:n-1]
			child, err := t.r.OpenChild(fd, sub)
			if errors.Is(err, unix.ENOENT) {
				continue
			} else if err != nil {
				return err
			}
			parent := fd
			if len(t.stack) >= keptFDs {
				unix.Close(fd)
				parent = -1
			}
			fd = child
			if err := t.enter(fd, sub, parent); err != nil {
				return err
			}
			continue
		}
		if len(t.stack) == 1 {
			return nil // the caller removes the top
		}
		// cur is empty: up one level, and remove it there.
		parent, err := t.up(fd, cur)
		if err != nil {
			return err
		}
		unix.Close(fd)
		fd = parent
		gone := cur.name
		t.stack = t.stack[:len(t.stack)-1]
		if err := unix.Unlinkat(fd, gone, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("%s: %w", gone, err)
		}
	}
}

// enter makes the directory open as fd writable, removes its files and
// pushes it with the subdirectories left to enter.
func (t *treeRemover) enter(fd int, name string, parentFD int) error {
	t.stack = append(t.stack, level{name: name, parentFD: parentFD})
	l := &t.stack[len(t.stack)-1]
	var st unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MODE|unix.STATX_INO, &st); err != nil {
		return err
	}
	l.dev, l.ino = unix.Mkdev(st.Dev_major, st.Dev_minor), st.Ino
	if st.Mode&0o300 != 0o300 {
		// Module directories are 0555; entries cannot be removed until the
		// directory is writable. fchmod on the open fd: no path involved.
		if err := unix.Fchmod(fd, uint32(st.Mode&0o7777)|0o700); err != nil {
			return fmt.Errorf("make writable: %w", err)
		}
	}
	return scan.EachName(fd, t.buf, func(name []byte, cname *byte, dtype uint8) error {
		if dtype != unix.DT_DIR {
			switch errno := unlinkAt(fd, cname, 0); errno {
			case 0, unix.ENOENT:
				return nil
			case unix.EISDIR: // a directory after all (or the type was unknown)
			default:
				return fmt.Errorf("%s: %w", name, errno)
			}
		}
		l.subdirs = append(l.subdirs, string(name))
		return nil
	})
}

// up returns an fd of the directory above cur (the current one, open as
// fd): the one kept, or ".." when it is the directory the walk came from.
func (t *treeRemover) up(fd int, cur *level) (int, error) {
	if cur.parentFD >= 0 {
		p := cur.parentFD
		cur.parentFD = -1
		return p, nil
	}
	above := &t.stack[len(t.stack)-2]
	p, err := unix.Openat(fd, "..", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open ..: %w", err)
	}
	var st unix.Statx_t
	if err := unix.Statx(p, "", unix.AT_EMPTY_PATH, unix.STATX_INO, &st); err != nil ||
		unix.Mkdev(st.Dev_major, st.Dev_minor) != above.dev || st.Ino != above.ino {
		unix.Close(p)
		return -1, errors.New("moved while being removed: its parent is no longer the directory it was found in")
	}
	return p, nil
}

// where is the path from the top of the tree to the current directory,
// for an error.
func (t *treeRemover) where() string {
	if len(t.stack) <= 1 {
		return ""
	}
	names := make([]string, 0, len(t.stack)-1)
	for _, l := range t.stack[1:] {
		names = append(names, l.name)
	}
	return strings.Join(names, "/") + "/"
}
