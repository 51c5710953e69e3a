// Package paths is the one place where gomaint's own locations are
// computed from an environment: the XDG base directories (by the spec's
// rule, and by go's stricter one for finding go's caches), and gomaint's
// configuration file, tmpfiles.d file, state, runtime and lock directories
// and control socket. "" means the environment names no such place; the
// caller says what to set. It decides names only: making the directories,
// and refusing ones others could write, is maint/rundir's.
package paths

import (
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// SystemConfig is the system's configuration file.
const SystemConfig = "/etc/gomaint/gomaint.toml"

// UserConfig is a user's configuration file, in ConfigHome.
func UserConfig(getenv func(string) string) string {
	return under(ConfigHome(getenv), "gomaint", "gomaint.toml")
}

// SystemTmpfiles is where `gomaint protect --system` writes its exclusions.
const SystemTmpfiles = "/etc/tmpfiles.d/gomaint-local.conf"

// UserTmpfiles is where a user's exclusions go: user-tmpfiles.d in
// ConfigHome, which `systemd-tmpfiles --user` reads.
func UserTmpfiles(getenv func(string) string) string {
	return under(ConfigHome(getenv), "user-tmpfiles.d", "gomaint.conf")
}

// StateDir is where the daemon saves its last status: the first of
// $STATE_DIRECTORY's directories when systemd sets it, else
// /var/lib/gomaint for the system and gomaint in StateHome for a user.
func StateDir(system bool, getenv func(string) string) string {
	if d := getenv("STATE_DIRECTORY"); filepath.IsAbs(d) {
		first, _, _ := strings.Cut(d, ":")
		return first
	}
	if system {
		return "/var/lib/gomaint"
	}
	return under(StateHome(getenv), "gomaint")
}

// AlertSpool is where alerts wait for delivery (maint/alert): alert-spool
// in the state directory (StateDir). The packaged system one is made by
// tmpfiles.d, group gomaint-alert, for the unprivileged sender.
func AlertSpool(stateDir string) string { return under(stateDir, "alert-spool") }

// RuntimeDir is the directory of the control socket and of the lock
// directory: /run/gomaint for the system, gomaint in RuntimeHome for a
// user. A user without XDG_RUNTIME_DIR (su, cron) gets gomaint/run in
// StateHome: a name in /tmp is one another user could take first.
func RuntimeDir(system bool, getenv func(string) string) string {
	if system {
		return "/run/gomaint"
	}
	if d := RuntimeHome(getenv); d != "" {
		return filepath.Join(d, "gomaint")
	}
	return under(StateHome(getenv), "gomaint", "run")
}

// Socket is the daemon's control socket, in RuntimeDir.
func Socket(system bool, getenv func(string) string) string {
	return under(RuntimeDir(system, getenv), "control.sock")
}

// LockDir is where the locks of a scope live: locks/ in RuntimeDir, which
// only gomaint's own user may enter (the socket beside it is for others).
//
// Root acting in another user's environment (`sudo -E gomaint fix`) keeps
// its locks in /run/gomaint/locks instead, unless every part of the
// runtime directory that exists is root's: a directory that user owns, or
// a link they could have made on the way, is no place for root to create
// directories in (rundir would refuse the lock directory only after
// MkdirAll made its parents).
func LockDir(system bool, getenv func(string) string) string {
	d := RuntimeDir(system, getenv)
	if d == "" {
		return ""
	}
	if !system && os.Geteuid() == 0 && !rootsAlone(d) {
		d = RuntimeDir(true, getenv)
	}
	return filepath.Join(d, "locks")
}

// rootsAlone reports whether every part of path that exists is a
// directory of root's, not a link: the only places where root may create
// its lock directories. A directory that is not yet there counts as
// root's, since root would make it.
func rootsAlone(path string) bool {
	p := "/"
	for _, part := range strings.Split(strings.Trim(filepath.Clean(path), "/"), "/") {
		p = filepath.Join(p, part)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err == unix.ENOENT {
			return true
		} else if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != 0 {
			return false
		}
	}
	return true
}

// under joins names under dir, or is "" when dir is.
func under(dir string, names ...string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(append([]string{dir}, names...)...)
}
