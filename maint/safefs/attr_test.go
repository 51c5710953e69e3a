package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestSetAttrSpecialBits: SetAttr never sets setuid, setgid or sticky on
// a file (only setgid on a directory), and a file it gives to root loses
// its setuid and setgid bits, even the setgid that chown itself keeps (on
// a file the group cannot execute).
func TestSetAttrSpecialBits(t *testing.T) {
	testenv.Root(t)
	uid, gid := testenv.Nobody(t)
	dir := t.TempDir()
	for name, m := range map[string]uint32{"suid": 0o4755, "sgid": 0o2745, "plain": 0o644} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("x"), 0o644)
		os.Chown(p, uid, gid)
		os.Chmod(p, os.FileMode(m&0o777)|map[bool]os.FileMode{true: os.ModeSetuid}[m&0o4000 != 0]|map[bool]os.FileMode{true: os.ModeSetgid}[m&0o2000 != 0])
	}
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, name := range []string{"suid", "sgid"} {
		if err := r.SetAttr(r.FD, name, Attr{UID: 0, GID: 0, Mode: NoMode}); err != nil {
			t.Fatal(err)
		}
		if st, _ := r.Stat(r.FD, name); st.Uid != 0 || st.Mode&0o7000 != 0 {
			t.Errorf("%s given to root: uid %d mode %04o", name, st.Uid, st.Mode&0o7777)
		}
	}
	for _, tc := range []struct {
		name string
		mode uint32
		ok   bool
	}{{"plain", 0o4755, false}, {"plain", 0o2755, false}, {"plain", 0o1644, false}, {"plain", 0o600, true},
		{"d", 0o4755, false}, {"d", 0o1777, false}, {"d", 0o2770, true}} {
		err := r.SetAttr(r.FD, tc.name, Attr{UID: -1, GID: -1, Mode: tc.mode})
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, ErrSpecialMode)) {
			t.Errorf("%s to %04o: %v", tc.name, tc.mode, err)
		}
		if st, _ := r.Stat(r.FD, tc.name); !tc.ok && uint32(st.Mode)&0o7000 == tc.mode&0o7000 {
			t.Errorf("%s: mode %04o set", tc.name, st.Mode&0o7777)
		}
	}
}
