package flash

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSysfs lays out the sysfs of a Raspberry Pi 5 booted from an SD card
// with a dm-crypt volume on it, an NVMe SSD, a SATA SSD and a USB stick,
// as the kernel shows them: /sys/dev/block links into /sys/devices.
func fakeSysfs(t *testing.T) string {
	root := t.TempDir()
	file := func(p, content string) {
		t.Helper()
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(p, to string) {
		t.Helper()
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(to, p); err != nil {
			t.Fatal(err)
		}
	}
	const mmc = "devices/platform/axi/1000fff000.mmc/mmc_host/mmc0/mmc0:aaaa"
	file(mmc+"/type", "SD")
	file(mmc+"/block/mmcblk0/removable", "0")
	file(mmc+"/block/mmcblk0/queue/rotational", "0")
	link(mmc+"/block/mmcblk0/device", "../../../mmc0:aaaa")
	file(mmc+"/block/mmcblk0/mmcblk0p2/partition", "2")
	file(mmc+"/block/mmcblk0/mmcblk0p3/partition", "3")
	link("dev/block/179:2", "../../"+mmc+"/block/mmcblk0/mmcblk0p2")
	file("devices/virtual/block/dm-0/removable", "0")
	link("devices/virtual/block/dm-0/slaves/mmcblk0p3", "../../../../"+strings.TrimPrefix(mmc, "devices/")+"/block/mmcblk0/mmcblk0p3")
	link("dev/block/254:0", "../../devices/virtual/block/dm-0")
	// An eMMC whose driver names it otherwise: the bus's type decides.
	const emmc = "devices/platform/soc/fe330000.mmc/mmc_host/mmc1/mmc1:0001"
	file(emmc+"/type", "MMC")
	link(emmc+"/block/disk9/device", "../../../mmc1:0001")
	file(emmc+"/block/disk9/removable", "0")
	link("dev/block/180:0", "../../"+emmc+"/block/disk9")
	const nvme = "devices/pci0000:00/0000:00:01.0/nvme/nvme0/nvme0n1"
	file(nvme+"/removable", "0")
	file(nvme+"/queue/rotational", "0")
	file(nvme+"/nvme0n1p1/partition", "1")
	link("dev/block/259:1", "../../"+nvme+"/nvme0n1p1")
	const sata = "devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda"
	file(sata+"/removable", "0")
	file(sata+"/queue/rotational", "0")
	file(sata+"/sda1/partition", "1")
	link("dev/block/8:1", "../../"+sata+"/sda1")
	const usb = "devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host1/target1:0:0/1:0:0:0/block/sdb"
	file(usb+"/removable", "1")
	file(usb+"/sdb1/partition", "1")
	link("dev/block/8:17", "../../"+usb+"/sdb1")
	return root
}

func TestDevice(t *testing.T) {
	sys := fakeSysfs(t)
	for _, c := range []struct {
		major, minor uint32
		flash        bool
		device, why  string
	}{
		{179, 2, true, "mmcblk0", "mmc block device"},
		{254, 0, true, "mmcblk0", "dm-0 is on mmcblk0"},
		{180, 0, true, "disk9", "MMC card"},
		{259, 1, false, "nvme0n1", "not SD"},
		{8, 1, false, "sda", "not SD"},
		{8, 17, true, "sdb", "removable"},
		{0, 45, false, "", "not on a block device"},
	} {
		r, err := Device(sys, c.major, c.minor)
		if err != nil || r.Flash != c.flash || r.Device != c.device || !strings.Contains(r.Why, c.why) {
			t.Errorf("%d:%d: %+v, %v; want flash %v on %q, saying %q", c.major, c.minor, r, err, c.flash, c.device, c.why)
		}
	}
	if _, err := Device(sys, 8, 99); err == nil {
		t.Error("a device sysfs does not list: no error")
	}
}

// TestOfThisMachine: the real sysfs is read for a path that does not
// exist yet (a cache go has not made), from its nearest parent.
func TestOfThisMachine(t *testing.T) {
	dir := t.TempDir()
	want, err := Of("/sys", dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Of("/sys", filepath.Join(dir, "not", "yet"))
	if err != nil || got != want {
		t.Errorf("a path not made yet: %+v, %v; want its parent's %+v", got, err, want)
	}
	t.Logf("%s: %+v", dir, want)
}
