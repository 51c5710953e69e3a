package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestUntrusted: the rules of readTrusted on their own, for each way a
// file can be another user's to write.
func TestUntrusted(t *testing.T) {
	reg := func(uid, gid uint32, mode uint32) *unix.Stat_t {
		return &unix.Stat_t{Uid: uid, Gid: gid, Mode: unix.S_IFREG | mode}
	}
	for _, tc := range []struct {
		st   *unix.Stat_t
		euid int
		want string
	}{
		{reg(0, 0, 0o644), 0, ""},
		{reg(0, 0, 0o664), 0, ""},                      // root's group is root
		{reg(0, 4, 0o664), 0, "chmod g-w /f"},          // a group of users
		{reg(0, 0, 0o666), 0, "chmod o-w /f"},          // everyone
		{reg(1000, 1000, 0o644), 0, "sudo chown root"}, // root trusts only root
		{reg(0, 0, 0o644), 1000, ""},                   // a user trusts root
		{reg(1000, 1000, 0o664), 1000, ""},             // and their own group
		{reg(1000, 1000, 0o646), 1000, "chmod o-w /f"}, // not everyone
		{reg(1001, 1001, 0o644), 1000, "owned by"},     // nor another user
		{&unix.Stat_t{Mode: unix.S_IFIFO | 0o644}, 0, "not a regular file"},
	} {
		got := untrusted("/f", tc.st, tc.euid)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("uid %d gid %d mode %o as %d: %q, want %q", tc.st.Uid, tc.st.Gid, tc.st.Mode, tc.euid, got, tc.want)
		}
	}
}

// TestLoadRefusesWorldWritable: Load returns the refusal as an *Error
// naming the file, for an explicit file and for the scope's default one.
func TestLoadRefusesWorldWritable(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "gomaint", "gomaint.toml")
	os.MkdirAll(filepath.Dir(f), 0o755)
	os.WriteFile(f, []byte("[goroot]\nrequired = false\n"), 0o600)
	os.Chmod(f, 0o666)
	for _, explicit := range []string{f, ""} {
		_, err := Load(User, explicit, func(k string) string { return map[string]string{"XDG_CONFIG_HOME": dir}[k] })
		if e, ok := err.(*Error); !ok || e.File != f || !strings.Contains(e.Reason, "chmod o-w "+f) {
			t.Errorf("Load(%q): %v", explicit, err)
		}
	}
}
