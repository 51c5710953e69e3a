package scan

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestMountIDFallback: where statx gives no mount id (Linux before 5.8,
// qemu's user emulation), name_to_handle_at gives the one statx would, so
// a bind mount of the same file system still tells itself apart. The
// emulated run in test.sh has the kernel interface without it for real.
func TestMountIDFallback(t *testing.T) {
	dir := testenv.Dir(t)
	if err := os.Mkdir(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	mnt := testenv.Mount(t, dir, "", filepath.Join(dir, "src"), "")
	for _, tc := range []struct {
		dirfd int
		path  string
		flags int
	}{
		{unix.AT_FDCWD, dir, unix.AT_SYMLINK_NOFOLLOW},
		{unix.AT_FDCWD, mnt, unix.AT_SYMLINK_NOFOLLOW},
		{unix.AT_FDCWD, mnt, 0},
	} {
		var kernel unix.Statx_t
		if err := unix.Statx(tc.dirfd, tc.path, tc.flags, unix.STATX_MNT_ID, &kernel); err != nil {
			t.Fatal(err)
		}
		if kernel.Mask&unix.STATX_MNT_ID == 0 || kernel.Mnt_id == 0 {
			t.Fatalf("%s: this kernel gives no mount id (mask %#x, id %d): nothing to compare the fallback with", tc.path, kernel.Mask, kernel.Mnt_id)
		}
		var old unix.Statx_t // as an older kernel leaves it
		fillMountID(tc.dirfd, tc.path, tc.flags, unix.STATX_MNT_ID, &old)
		if old.Mask&unix.STATX_MNT_ID == 0 || old.Mnt_id != kernel.Mnt_id {
			t.Errorf("%s: fallback mount id %d (mask %#x), want statx's %d", tc.path, old.Mnt_id, old.Mask, kernel.Mnt_id)
		}
	}
	var a, b unix.Statx_t
	fillMountID(unix.AT_FDCWD, dir, 0, unix.STATX_MNT_ID, &a)
	fillMountID(unix.AT_FDCWD, mnt, 0, unix.STATX_MNT_ID, &b)
	if a.Mnt_id == b.Mnt_id {
		t.Errorf("the bind mount and its parent have one mount id, %d, by the fallback", a.Mnt_id)
	}
}
