package alert

import (
	"encoding/binary"
	"fmt"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/scan"
)

// Snapshot is a path's inode as `ls -ldL` shows it, taken when the finding
// was made.
type Snapshot struct {
	Type   string    `json:"type"`  // "directory", "file", "symlink", ...
	Mode   string    `json:"mode"`  // as ls shows it: "drwxrws---+"
	Octal  string    `json:"octal"` // "2770"
	Setgid bool      `json:"setgid"`
	Owner  Account   `json:"owner"`
	Group  Account   `json:"group"`
	Size   int64     `json:"size"`
	Mtime  time.Time `json:"mtime"`
	// ACL is the access ACL in getfacl's short form, when the inode has one.
	ACL string `json:"acl,omitempty"`
}

// Line is the snapshot as one line of `ls -ldn` with names.
func (s *Snapshot) Line() string {
	return fmt.Sprintf("%s %s(%d) %s(%d) %d %s", s.Mode, s.Owner.Name, s.Owner.ID, s.Group.Name, s.Group.ID,
		s.Size, s.Mtime.UTC().Format(time.RFC3339))
}

// TakeSnapshot describes the inode at path without following a symbolic
// link anywhere in it: inside a cache, links are planted by users, and
// what one points to is not what the finding is about. path must be
// absolute and already resolved (the cache's real path and a path below
// it); it is only read.
func TakeSnapshot(path string) (*Snapshot, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("snapshot %s: not an absolute path", path)
	}
	dir, name := filepath.Split(filepath.Clean(path))
	if name == "" {
		dir, name = "/", "."
	}
	// scan.OpenDir refuses a link anywhere in dir, with openat2 where the
	// kernel has it and one component at a time where not (before 5.6,
	// or under qemu's user emulation).
	dfd, err := scan.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	s := &Snapshot{
		Type:   typeName(st.Mode),
		Octal:  strconv.FormatUint(uint64(st.Mode&0o7777), 8),
		Setgid: st.Mode&unix.S_ISGID != 0,
		Owner:  userAccount(st.Uid),
		Group:  groupAccount(st.Gid),
		Size:   st.Size,
		Mtime:  time.Unix(st.Mtim.Unix()),
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		s.ACL = readACL(fd)
	}
	s.Mode = lsMode(st.Mode)
	if s.ACL != "" {
		s.Mode += "+"
	}
	return s, nil
}

// readACL reads the access ACL of the open inode; "" when it has none
// beyond its mode bits, or it cannot be read.
func readACL(fd int) string {
	buf := make([]byte, 4+8*64)
	n, err := unix.Getxattr("/proc/self/fd/"+strconv.Itoa(fd), "system.posix_acl_access", buf)
	if err != nil || n < 4 || binary.LittleEndian.Uint32(buf) != 2 {
		return ""
	}
	var parts []string
	for off := 4; off+8 <= n; off += 8 {
		tag, perm := binary.LittleEndian.Uint16(buf[off:]), binary.LittleEndian.Uint16(buf[off+2:])
		id := binary.LittleEndian.Uint32(buf[off+4:])
		var who string
		switch tag {
		case 0x01:
			who = "user::"
		case 0x02:
			who = "user:" + userAccount(id).display() + ":"
		case 0x04:
			who = "group::"
		case 0x08:
			who = "group:" + groupAccount(id).display() + ":"
		case 0x10:
			who = "mask::"
		case 0x20:
			who = "other::"
		default:
			continue
		}
		parts = append(parts, who+rwx(perm))
	}
	if len(parts) <= 3 { // user::, group::, other:: only: the mode bits
		return ""
	}
	return strings.Join(parts, ",")
}

func rwx(p uint16) string {
	b := []byte("---")
	for i, c := range "rwx" {
		if p&(4>>i) != 0 {
			b[i] = byte(c)
		}
	}
	return string(b)
}

func (a Account) display() string {
	if a.Name != "" {
		return a.Name
	}
	return strconv.FormatUint(uint64(a.ID), 10)
}

func userAccount(uid uint32) Account {
	a := Account{ID: uid}
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		a.Name = u.Username
	}
	return a
}

func groupAccount(gid uint32) Account {
	a := Account{ID: gid}
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		a.Name = g.Name
	}
	return a
}

func typeName(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFREG:
		return "file"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR:
		return "char-device"
	case unix.S_IFBLK:
		return "block-device"
	}
	return "unknown"
}

// lsMode is the mode as ls shows it: a type letter, then rwx for owner,
// group and other with setuid, setgid and sticky as s/S, s/S and t/T.
func lsMode(m uint32) string {
	types := map[uint32]byte{unix.S_IFDIR: 'd', unix.S_IFLNK: 'l', unix.S_IFIFO: 'p', unix.S_IFSOCK: 's', unix.S_IFCHR: 'c', unix.S_IFBLK: 'b'}
	t, ok := types[m&unix.S_IFMT]
	if !ok {
		t = '-'
	}
	b := []byte{t}
	special := []struct {
		bit  uint32
		x, X byte
	}{{unix.S_ISUID, 's', 'S'}, {unix.S_ISGID, 's', 'S'}, {unix.S_ISVTX, 't', 'T'}}
	for i, sp := range special {
		p := []byte(rwx(uint16(m >> (6 - 3*i) & 7)))
		if m&sp.bit != 0 {
			if p[2] == 'x' {
				p[2] = sp.x
			} else {
				p[2] = sp.X
			}
		}
		b = append(b, p...)
	}
	return string(b)
}
