package goroot

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/scan"
)

// Kinds of entries in a tree, as a baseline records them.
const (
	kindFile  = 'f'
	kindLink  = 'l'
	kindDir   = 'd'
	kindOther = 'o' // a FIFO, socket or device: never in a Go root
)

// node is one entry of a walked tree.
type node struct {
	rel  string // relative to the walk's root
	kind byte
	mode uint32 // permission bits, setuid, setgid and sticky included
	sum  string // hex digest of a regular file's contents
	link string // a link's target, as written
	err  error  // why it could not be examined; nothing else is set
}

// hashWalk walks the directory at path with maint/scan's walker, so that
// no link is followed and no other mount entered (safety 1), and hashes
// every regular file with newHash (nil: none); the walker's workers bound
// the files read at once. The nodes come back sorted by rel.
func hashWalk(ctx context.Context, path string, newHash func() hash.Hash) ([]node, error) {
	fd, root, err := scan.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	visitors, err := scan.Walk(ctx, fd, root, scan.Options{}, func() *hasher {
		return &hasher{newHash: newHash, buf: make([]byte, 64<<10)}
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", path, err)
	}
	var nodes []node
	for _, v := range visitors {
		nodes = append(nodes, v.nodes...)
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].rel < nodes[j].rel })
	return nodes, nil
}

// hasher is one worker's visitor.
type hasher struct {
	newHash func() hash.Hash
	buf     []byte
	nodes   []node
}

func (h *hasher) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	n := node{rel: d.Join(e.Name), mode: e.Perm()}
	switch {
	case e.IsFile():
		n.kind = kindFile
		if h.newHash != nil { // nil: the baseline's own tool reads the files (rpm -V)
			n.sum, n.err = h.sum(d.FD(), string(e.Name), e.Stat)
		}
	case e.IsLink():
		n.kind = kindLink
		n.link, n.err = readlinkAt(d.FD(), string(e.Name))
	case e.IsDir():
		n.kind = kindDir
	default:
		n.kind = kindOther
	}
	h.nodes = append(h.nodes, n)
	return 0
}

func (h *hasher) Report(d *scan.Dir, name []byte, p scan.Problem, err error) {
	if err == nil {
		err = fmt.Errorf("problem %d", p)
		if p == scan.OtherMount {
			err = fmt.Errorf("another file system is mounted here; not entered")
		}
	}
	h.nodes = append(h.nodes, node{rel: d.Join(name), err: err})
}

// sum hashes the file name of dirfd. It is opened without following a
// link and without blocking (a FIFO swapped in since the walk saw a file
// must not hang the run), and must still be the inode the walk saw.
func (h *hasher) sum(dirfd int, name string, seen *unix.Statx_t) (string, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", fmt.Errorf("fstat: %w", err)
	}
	if st.Ino != seen.Ino || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", fmt.Errorf("replaced while being read")
	}
	hs := h.newHash()
	if _, err := io.CopyBuffer(hs, f, h.buf); err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	return hex.EncodeToString(hs.Sum(nil)), nil
}

func readlinkAt(dirfd int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", fmt.Errorf("readlink: %w", err)
	}
	return string(buf[:n]), nil
}

// The digests of each baseline: dpkg's md5sums, gomaint's own sha256.
var (
	newMD5    = md5.New
	newSHA256 = sha256.New
)
