// Package flash tells whether a path is stored on flash that wears with
// every write and has no wear levelling worth the name: SD cards and eMMC
// (the kernel's mmc block driver, mmcblkN) and removable drives such as
// USB sticks. It reads only sysfs:
//
//   - /sys/dev/block/MAJ:MIN of the file system's device (st_dev), a link
//     into /sys/devices;
//   - a partition's disk is the directory above it (the partition has a
//     "partition" file);
//   - a device-mapper or md device (LVM, dm-crypt, RAID) is judged by the
//     devices in its "slaves" directory, recursively;
//   - a disk is flash when its name starts with "mmcblk", or its
//     device/type is "SD" or "MMC" (the mmc bus), or its "removable" is 1.
//
// queue/rotational is not used: it is 0 for SSDs and NVMe too, whose
// controllers level wear. A file system without a block device (tmpfs,
// overlay, NFS, btrfs's anonymous device numbers: major 0) is not judged.
package flash

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Result says whether a path is on flash storage, and on which device.
type Result struct {
	Flash bool
	// Device is the disk that decided (mmcblk0, sdb), "" if none.
	Device string
	// Why says what sysfs said, for the status and the journal.
	Why string
}

// Of judges the file system holding path (or, while path does not
// exist, its nearest existing parent), reading sysfs under sysfs ("/sys").
func Of(sysfs, path string) (Result, error) {
	var st unix.Stat_t
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		err := unix.Stat(p, &st)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.ENOENT) || p == "/" || p == "." {
			return Result{}, fmt.Errorf("flash: stat %s: %w", p, err)
		}
	}
	return Device(sysfs, unix.Major(st.Dev), unix.Minor(st.Dev))
}

// Device judges the block device major:minor.
func Device(sysfs string, major, minor uint32) (Result, error) {
	if major == 0 {
		return Result{Why: "not on a block device"}, nil
	}
	link := filepath.Join(sysfs, "dev", "block", fmt.Sprintf("%d:%d", major, minor))
	dir, err := filepath.EvalSymlinks(link)
	if err != nil {
		return Result{}, fmt.Errorf("flash: %w", err)
	}
	return judge(dir, 0)
}

// judge looks at the device in sysfs directory dir, its disk and what it
// is built on; depth bounds a malformed tree's loops.
func judge(dir string, depth int) (Result, error) {
	if depth > 8 {
		return Result{Why: "device stack too deep"}, nil
	}
	if exists(filepath.Join(dir, "partition")) {
		dir = filepath.Dir(dir)
	}
	name := filepath.Base(dir)
	typ := read(filepath.Join(dir, "device", "type"))
	switch {
	case strings.HasPrefix(name, "mmcblk"):
		return Result{Flash: true, Device: name, Why: name + " is an SD card or eMMC (mmc block device)"}, nil
	case typ == "SD" || typ == "MMC":
		return Result{Flash: true, Device: name, Why: fmt.Sprintf("%s is an %s card (device/type)", name, typ)}, nil
	case read(filepath.Join(dir, "removable")) == "1":
		return Result{Flash: true, Device: name, Why: name + " is a removable drive"}, nil
	}
	slaves, _ := os.ReadDir(filepath.Join(dir, "slaves"))
	for _, s := range slaves {
		under, err := filepath.EvalSymlinks(filepath.Join(dir, "slaves", s.Name()))
		if err != nil {
			continue
		}
		if r, err := judge(under, depth+1); err == nil && r.Flash {
			r.Why = fmt.Sprintf("%s is on %s", name, r.Why)
			return r, nil
		}
	}
	return Result{Device: name, Why: name + " is not SD, eMMC or removable"}, nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func read(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
