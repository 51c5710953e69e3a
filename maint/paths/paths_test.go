package paths

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestUserFiles: the configuration and tmpfiles.d files follow ConfigHome,
// and without a home there is no file, not one in the working directory.
func TestUserFiles(t *testing.T) {
	for _, c := range []struct {
		env              map[string]string
		config, tmpfiles string
	}{
		{map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/gomaint/gomaint.toml", "/x/user-tmpfiles.d/gomaint.conf"},
		{map[string]string{"XDG_CONFIG_HOME": "rel", "HOME": "/h"}, "/h/.config/gomaint/gomaint.toml", "/h/.config/user-tmpfiles.d/gomaint.conf"},
		{map[string]string{}, "", ""},
	} {
		if got := UserConfig(env(c.env)); got != c.config {
			t.Errorf("UserConfig with %v: %q, want %q", c.env, got, c.config)
		}
		if got := UserTmpfiles(env(c.env)); got != c.tmpfiles {
			t.Errorf("UserTmpfiles with %v: %q, want %q", c.env, got, c.tmpfiles)
		}
	}
}

// TestStateDir: systemd's STATE_DIRECTORY wins in either scope, its first
// directory when StateDirectory= names several; else the scope's own.
func TestStateDir(t *testing.T) {
	for _, c := range []struct {
		system bool
		env    map[string]string
		want   string
	}{
		{true, map[string]string{"STATE_DIRECTORY": "/var/lib/gomaint"}, "/var/lib/gomaint"},
		{true, map[string]string{"STATE_DIRECTORY": "/var/lib/a:/var/lib/b:/var/lib/c"}, "/var/lib/a"},
		{false, map[string]string{"STATE_DIRECTORY": "/h/.local/state/a:/h/.local/state/b", "HOME": "/h"}, "/h/.local/state/a"},
		{true, map[string]string{"STATE_DIRECTORY": "rel:/var/lib/b"}, "/var/lib/gomaint"},
		{true, map[string]string{}, "/var/lib/gomaint"},
		{false, map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/gomaint"},
		{false, map[string]string{"HOME": "/h"}, "/h/.local/state/gomaint"},
		{false, map[string]string{}, ""},
	} {
		if got := StateDir(c.system, env(c.env)); got != c.want {
			t.Errorf("StateDir(system=%v) with %v: %q, want %q", c.system, c.env, got, c.want)
		}
	}
}

// TestRuntimeDir: the socket and the locks live in /run/gomaint, the
// user's runtime directory, or without one in the user's state directory:
// never under a name in /tmp another user could take first.
func TestRuntimeDir(t *testing.T) {
	for _, c := range []struct {
		system      bool
		env         map[string]string
		dir, socket string
	}{
		{true, map[string]string{"XDG_RUNTIME_DIR": "/nonexistent/run"}, "/run/gomaint", "/run/gomaint/control.sock"},
		{false, map[string]string{"XDG_RUNTIME_DIR": "/nonexistent/run", "HOME": "/nonexistent/h"}, "/nonexistent/run/gomaint", "/nonexistent/run/gomaint/control.sock"},
		{false, map[string]string{"XDG_RUNTIME_DIR": "run", "HOME": "/nonexistent/h"}, "/nonexistent/h/.local/state/gomaint/run", "/nonexistent/h/.local/state/gomaint/run/control.sock"},
		{false, map[string]string{"XDG_STATE_HOME": "/nonexistent/s", "HOME": "/nonexistent/h"}, "/nonexistent/s/gomaint/run", "/nonexistent/s/gomaint/run/control.sock"},
		{false, map[string]string{}, "", ""},
	} {
		getenv := env(c.env)
		if got := RuntimeDir(c.system, getenv); got != c.dir {
			t.Errorf("RuntimeDir(system=%v) with %v: %q, want %q", c.system, c.env, got, c.dir)
		}
		if got := Socket(c.system, getenv); got != c.socket {
			t.Errorf("Socket(system=%v) with %v: %q, want %q", c.system, c.env, got, c.socket)
		}
		want := ""
		if c.dir != "" {
			want = c.dir + "/locks"
		}
		if got := LockDir(c.system, getenv); got != want {
			t.Errorf("LockDir(system=%v) with %v: %q, want %q", c.system, c.env, got, want)
		}
	}
}

// TestRootInUsersRuntimeDir: under `sudo -E` the runtime directory is the
// user's; root's locks must not go there (rundir refuses a directory the
// user owns), but to /run/gomaint/locks.
func TestRootInUsersRuntimeDir(t *testing.T) {
	testenv.Root(t)
	uid, gid := testenv.Nobody(t)
	run := testenv.Dir(t)
	if err := os.Chown(run, uid, gid); err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"XDG_RUNTIME_DIR": run})
	if got := LockDir(false, getenv); got != "/run/gomaint/locks" {
		t.Errorf("root's lock directory in a user's runtime dir: %s, want /run/gomaint/locks", got)
	}
	if err := os.Chown(run, 0, 0); err != nil {
		t.Fatal(err)
	}
	if got, want := LockDir(false, getenv), filepath.Join(run, "gomaint", "locks"); got != want {
		t.Errorf("root's lock directory in its own runtime dir: %s, want %s", got, want)
	}

	// Without XDG_RUNTIME_DIR, the user's state directory holds it.
	home := testenv.Dir(t)
	state := filepath.Join(home, ".local", "state", "gomaint")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, uid, gid); err != nil {
		t.Fatal(err)
	}
	if got := LockDir(false, env(map[string]string{"HOME": home})); got != "/run/gomaint/locks" {
		t.Errorf("root's lock directory in a user's state dir: %s, want /run/gomaint/locks", got)
	}

	// A user's home with no state directory yet: root would make it.
	bare := testenv.Dir(t)
	if err := os.Chown(bare, uid, gid); err != nil {
		t.Fatal(err)
	}
	if got := LockDir(false, env(map[string]string{"HOME": bare})); got != "/run/gomaint/locks" {
		t.Errorf("root's lock directory under a user's home without .local/state: %s, want /run/gomaint/locks", got)
	}
	// A link on the way, even in root's own directory, to root's own.
	mine := testenv.Dir(t)
	if err := os.Symlink(testenv.Dir(t), filepath.Join(mine, "link")); err != nil {
		t.Fatal(err)
	}
	if got := LockDir(false, env(map[string]string{"XDG_RUNTIME_DIR": filepath.Join(mine, "link")})); got != "/run/gomaint/locks" {
		t.Errorf("root's lock directory through a link: %s, want /run/gomaint/locks", got)
	}
}
