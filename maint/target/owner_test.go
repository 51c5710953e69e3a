package target

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestUserOwner: as root, a user-scope cache belongs to the owner of its
// root, or of the directory holding a root-owned root, with that user's
// group; SUDO_UID must agree (0 is root acting for itself: no claim), and
// one that is not a number is an error.
func TestUserOwner(t *testing.T) {
	testenv.Root(t)
	dir := testenv.Dir(t)
	u := testenv.NewUser(t, "gmt-sf-owner", dir)
	u.Sh(t, "mkdir mine")
	os.Mkdir(filepath.Join(u.Home, "byroot"), 0o755)
	os.Mkdir(filepath.Join(dir, "rootonly"), 0o755)
	for _, tc := range []struct {
		path, sudo, err string
		uid, gid        int
	}{
		{"mine", "", "", u.UID, u.GID},
		{"mine", fmt.Sprint(u.UID), "", u.UID, u.GID},
		{"mine", "0", "", u.UID, u.GID},
		{"byroot", fmt.Sprint(u.UID), "", u.UID, u.GID},
		{"mine", "12345", "not to uid 12345, who ran sudo", 0, 0},
		{"mine", "x", `SUDO_UID="x" is not a uid`, 0, 0},
		{"../rootonly", "", "never gives a cache to root", 0, 0},
	} {
		p := filepath.Clean(filepath.Join(u.Home, tc.path))
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		uid, gid, err := UserOwner(fd, p, func(k string) string { return map[string]string{"SUDO_UID": tc.sudo}[k] })
		unix.Close(fd)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s with SUDO_UID=%q: %v; want an error saying %q", tc.path, tc.sudo, err, tc.err)
			}
			continue
		}
		if err != nil || int(uid) != tc.uid || int(gid) != tc.gid {
			t.Errorf("%s with SUDO_UID=%q: %d:%d, %v; want %d:%d", tc.path, tc.sudo, uid, gid, err, tc.uid, tc.gid)
		}
	}
}
