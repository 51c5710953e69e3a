package testenv

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Account is a real unprivileged user made with useradd, for tests that
// play a local attacker or a group member.
type Account struct {
	Name     string
	UID, GID int
	Groups   []uint32 // supplementary gids, from groups given to NewAccount
	Home     string   // a fresh directory the user owns, removed after the test
}

// NewAccount makes (or reuses) the user name, member of groups (made when
// missing), with a fresh home directory under Dir.
func NewAccount(t testing.TB, name string, groups ...string) *Account {
	t.Helper()
	Root(t)
	Command(t, "useradd")
	a := &Account{Name: name}
	for _, g := range groups {
		if _, err := user.LookupGroup(g); err != nil {
			Run(t, nil, "", "groupadd", "--system", g)
		}
		grp, err := user.LookupGroup(g)
		if err != nil {
			t.Fatal(err)
		}
		gid, _ := strconv.Atoi(grp.Gid)
		a.Groups = append(a.Groups, uint32(gid))
	}
	if _, err := user.Lookup(name); err != nil {
		Run(t, nil, "", "useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name)
	}
	for _, g := range groups { // also for a user kept from an earlier run
		Run(t, nil, "", "usermod", "--append", "--groups", g, name)
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	a.UID, _ = strconv.Atoi(u.Uid)
	a.GID, _ = strconv.Atoi(u.Gid)
	a.Home = filepath.Join(Dir(t), name)
	if err := os.Mkdir(a.Home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(a.Home, a.UID, a.GID); err != nil {
		t.Fatal(err)
	}
	return a
}

// Cmd is a command run as the account, with only env (plus HOME).
func (a *Account) Cmd(env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append([]string{"HOME=" + a.Home, "PATH=/usr/local/go/bin:/usr/bin:/bin"}, env...)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
		Uid: uint32(a.UID), Gid: uint32(a.GID), Groups: a.Groups}}
	return cmd
}

// Self is a copy of the running test binary that any user may execute, so
// that a test can run one of its own helper functions as an Account.
func Self(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(Dir(t), filepath.Base(exe))
	WriteExec(t, path, src)
	return path
}
