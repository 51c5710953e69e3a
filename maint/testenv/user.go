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

// User is a real unprivileged account made with useradd for one test: an
// attacker or a victim that the kernel, not the test, tells apart.
type User struct {
	Name     string
	UID, GID int
	Home     string
}

// NewUser creates the user name (unique to the test) with its home under
// dir, owned by it, and deletes the user after the test.
func NewUser(t testing.TB, name, dir string) User {
	t.Helper()
	Root(t)
	Command(t, "useradd")
	home := filepath.Join(dir, name)
	if _, err := user.Lookup(name); err == nil { // left by a killed run
		exec.Command("userdel", name).Run()
	}
	Run(t, nil, "", "useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", "--user-group", name)
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	return User{Name: name, UID: uid, GID: gid, Home: home}
}

// Attr runs a command as the user.
func (u User) Attr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: []uint32{}}}
}

// Sh runs a shell command line as the user, in its home, and fails the
// test when it fails.
func (u User) Sh(t testing.TB, line string) string {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Dir, cmd.SysProcAttr = u.Home, u.Attr()
	cmd.Env = []string{"HOME=" + u.Home, "USER=" + u.Name, "PATH=/usr/local/bin:/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as %s: %s: %v\n%s", u.Name, line, err, out)
	}
	return string(out)
}
