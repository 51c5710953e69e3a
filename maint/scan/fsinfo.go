package scan

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// FS describes the file system a cache lives on.
type FS struct {
	Type        string   `json:"type"`
	Options     []string `json:"options"`
	MountPoint  string   `json:"mount_point,omitempty"`
	FreeBytes   int64    `json:"free_bytes"`
	FreeInodes  int64    `json:"free_inodes"`
	TotalBytes  int64    `json:"total_bytes"`
	TotalInodes int64    `json:"total_inodes"`
}

// Has reports whether the mount has option opt (e.g. "noatime").
func (f FS) Has(opt string) bool {
	for _, o := range f.Options {
		if o == opt {
			return true
		}
	}
	return false
}

// fsTypes names the magic numbers of file systems caches live on.
var fsTypes = map[int64]string{
	unix.EXT4_SUPER_MAGIC: "ext4", unix.XFS_SUPER_MAGIC: "xfs", unix.BTRFS_SUPER_MAGIC: "btrfs",
	unix.TMPFS_MAGIC: "tmpfs", unix.RAMFS_MAGIC: "ramfs", unix.OVERLAYFS_SUPER_MAGIC: "overlay",
	unix.NFS_SUPER_MAGIC: "nfs", unix.F2FS_SUPER_MAGIC: "f2fs", unix.FUSE_SUPER_MAGIC: "fuse",
	0x2fc12fc1: "zfs", unix.SMB2_SUPER_MAGIC: "smb2", unix.CIFS_SUPER_MAGIC: "cifs",
	unix.SQUASHFS_MAGIC: "squashfs", unix.BCACHEFS_SUPER_MAGIC: "bcachefs",
}

// Volatile file systems lose their contents at reboot.
func (f FS) Volatile() bool { return f.Type == "tmpfs" || f.Type == "ramfs" }

// DescribeFS turns a statfs result and the root's mount id into an FS. The
// type and options come from /proc/self/mountinfo when the mount is found
// there, so that fuse and others show their real names.
func DescribeFS(root Root) FS {
	sf := root.FS
	f := FS{
		FreeBytes:   int64(sf.Bavail) * int64(sf.Bsize),
		TotalBytes:  int64(sf.Blocks) * int64(sf.Bsize),
		FreeInodes:  int64(sf.Ffree),
		TotalInodes: int64(sf.Files),
		Type:        fsTypes[int64(sf.Type)],
	}
	if f.Type == "" {
		f.Type = fmt.Sprintf("0x%x", sf.Type)
	}
	if m, ok := findMount(root.Mount, root.Stat.Dev_major, root.Stat.Dev_minor); ok {
		f.MountPoint, f.Options = m.point, m.options
		if m.fstype != "" {
			f.Type = m.fstype
		}
	}
	return f
}

type mount struct {
	point, fstype string
	options       []string
}

// findMount reads /proc/self/mountinfo for the mount with this id, or, on
// kernels without mount ids in statx, the last mount of this device.
func findMount(id uint64, major, minor uint32) (mount, bool) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return mount{}, false
	}
	defer f.Close()
	dev := fmt.Sprintf("%d:%d", major, minor)
	var found mount
	ok := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 6 || sep < 0 || sep+1 >= len(fields) {
			continue
		}
		mid, _ := strconv.ParseUint(fields[0], 10, 64)
		if (id != 0 && mid == id) || (id == 0 && fields[2] == dev) {
			found = mount{point: unescapeMount(fields[4]), fstype: fields[sep+1], options: strings.Split(fields[5], ",")}
			ok = true
			if id != 0 {
				break
			}
		}
	}
	return found, ok
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
