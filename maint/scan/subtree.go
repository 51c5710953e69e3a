package scan

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Totals sums a subtree.
type Totals struct {
	Files, DiskBytes int64
	// NewestAtime is over regular files only: reading a directory, as any
	// walk (this one included) does, updates its atime, while a file's
	// atime moves only when something reads its contents, like a build.
	// NewestMtime is over every entry, the top included.
	NewestAtime, NewestMtime int64
	// TooDeep counts directories below MaxSubtreeDepth levels, which are
	// not read: the figures are lower bounds when it is not 0.
	TooDeep int64
}

// MaxSubtreeDepth bounds how deep Subtree reads (each level holds an fd).
// Go never nests a module or a cached executable nearly this deep.
const MaxSubtreeDepth = 256

// Subtree sums the directory name of dirfd, read sequentially, with the
// same rules as Walk: no links followed, nothing on another mount than
// mount entered (name itself included: EXDEV), unless mount is 0.
// It is for units small enough to read in one go, such as one module
// version, while Walk spreads a whole cache over workers.
func Subtree(dirfd int, name string, mount uint64) (Totals, error) {
	var t Totals
	var st unix.Statx_t
	if err := Statx(dirfd, name, statxFlags, statxMask, &st); err != nil {
		return t, err
	}
	if mount != 0 && st.Mask&unix.STATX_MNT_ID != 0 && st.Mnt_id != mount {
		return t, fmt.Errorf("%s: %w", name, unix.EXDEV)
	}
	t.add(&st)
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return t, fmt.Errorf("open %s: %w", name, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 16<<10)
	return t, sumDir(fd, mount, buf, &t, 0)
}

func (t *Totals) add(st *unix.Statx_t) {
	t.DiskBytes += int64(st.Blocks) * 512
	if st.Mode&unix.S_IFMT == unix.S_IFREG {
		t.Files++
		t.NewestAtime = max(t.NewestAtime, st.Atime.Sec)
	}
	t.NewestMtime = max(t.NewestMtime, st.Mtime.Sec)
}

func sumDir(fd int, mount uint64, buf []byte, t *Totals, depth int) error {
	var subdirs []string
	err := EachEntry(fd, buf, func(name []byte, _ *byte, st *unix.Statx_t, err error) error {
		if err != nil || (mount != 0 && st.Mask&unix.STATX_MNT_ID != 0 && st.Mnt_id != mount) {
			return nil
		}
		t.add(st)
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			subdirs = append(subdirs, string(name))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if depth >= MaxSubtreeDepth && len(subdirs) > 0 {
		t.TooDeep += int64(len(subdirs))
		return nil
	}
	for _, s := range subdirs {
		sub, err := unix.Openat(fd, s, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		err = sumDir(sub, mount, buf, t, depth+1)
		unix.Close(sub)
		if err != nil {
			return err
		}
	}
	return nil
}
