package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
)

// tree is what listing an extracted version found, without reading a
// file's contents.
type tree struct {
	files []string // regular files, relative to the version's directory
	bytes int64    // their total size
	// stamp changes whenever a file is written, added, removed, renamed or
	// has its mode changed: a hash of every entry's name, type, size,
	// inode, mtime and ctime (a write sets the file's ctime, an added or
	// removed name its directory's, and no one but root sets a ctime back).
	stamp string
	// odd names entries go never writes in a module directory (links,
	// special files, other mounts) and what could not be read.
	odd []string
}

// list lists the version's directory, examining every entry with
// statx(AT_SYMLINK_NOFOLLOW) and opening directories beneath the cache
// root without following links or leaving its mount (safety 1).
func list(root *safefs.Root, rel string) (*tree, error) {
	fd, err := root.OpenDir(rel)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	t := &tree{}
	var lines []string
	var top unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS, &top); err != nil {
		return nil, fmt.Errorf("statx %s: %w", rel, err)
	}
	lines = append(lines, stampLine(".", &top))
	listDir(root, fd, "", 0, make([]byte, 16<<10), t, &lines)
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l)
	}
	t.stamp = hex.EncodeToString(h.Sum(nil))
	return t, nil
}

func listDir(root *safefs.Root, fd int, dir string, depth int, buf []byte, t *tree, lines *[]string) {
	var subdirs []string
	err := root.EachEntry(fd, buf, func(e *safefs.DirEntry) error {
		name := path.Join(dir, string(e.Name))
		switch {
		case e.Err != nil:
			t.odd = append(t.odd, fmt.Sprintf("%s: %v", name, e.Err))
			return nil
		case root.Mount() != 0 && e.Stat.Mask&unix.STATX_MNT_ID != 0 && e.Stat.Mnt_id != root.Mount():
			t.odd = append(t.odd, name+": on another mount")
			return nil
		}
		*lines = append(*lines, stampLine(name, e.Stat))
		switch e.Stat.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			subdirs = append(subdirs, name)
		case unix.S_IFREG:
			t.files = append(t.files, name)
			t.bytes += int64(e.Stat.Size)
		case unix.S_IFLNK:
			t.odd = append(t.odd, name+": a symbolic link")
		default:
			t.odd = append(t.odd, name+": not a regular file")
		}
		return nil
	})
	if err != nil {
		t.odd = append(t.odd, fmt.Sprintf("%s/: %v", dir, err))
	}
	if depth >= scan.MaxSubtreeDepth && len(subdirs) > 0 {
		t.odd = append(t.odd, subdirs[0]+": nested too deep to read")
		return
	}
	for _, s := range subdirs {
		sub, err := root.OpenChild(fd, path.Base(s))
		if err != nil {
			t.odd = append(t.odd, fmt.Sprintf("%s: %v", s, err))
			continue
		}
		listDir(root, sub, s, depth+1, buf, t, lines)
		unix.Close(sub)
	}
}

func stampLine(name string, st *unix.Statx_t) string {
	return fmt.Sprintf("%q %o %d %d %d.%d %d.%d\n", name, st.Mode, st.Size, st.Ino,
		st.Mtime.Sec, st.Mtime.Nsec, st.Ctime.Sec, st.Ctime.Nsec)
}

// opener opens a version's files for hashing, each relative to its
// directory's fd, never through a link (safety 1): the directory beneath
// the cache root by safefs, the file in it O_NOFOLLOW and checked to be a
// regular file on the cache's mount. Files come in sorted order, so the
// last directory is kept open for the next.
type opener struct {
	ctx    context.Context // ends the hashing between two files
	root   *safefs.Root
	rel    string // the version's directory
	prefix string // "path@version/", the names dirhash is given
	dir    string
	dirfd  int
}

func newOpener(ctx context.Context, root *safefs.Root, v *version) *opener {
	return &opener{ctx: ctx, root: root, rel: v.rel(), prefix: v.module() + "/", dirfd: -1}
}

func (o *opener) open(name string) (io.ReadCloser, error) {
	if err := o.ctx.Err(); err != nil {
		return nil, err
	}
	rel := name[len(o.prefix):]
	dir, base := path.Split(rel)
	if o.dirfd < 0 || dir != o.dir {
		o.close()
		fd, err := o.root.OpenDir(path.Join(o.rel, dir))
		if err != nil {
			return nil, err
		}
		o.dir, o.dirfd = dir, fd
	}
	fd, err := o.root.OpenFile(o.dirfd, base, unix.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return os.NewFile(uintptr(fd), rel), nil
}

func (o *opener) close() {
	if o.dirfd >= 0 {
		unix.Close(o.dirfd)
		o.dirfd = -1
	}
}
