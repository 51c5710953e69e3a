package main

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// realUser makes a real unprivileged user (and its own group) for the
// test, removed afterwards.
func realUser(t *testing.T, name string) (uid, gid int) {
	t.Helper()
	testenv.Root(t)
	testenv.Command(t, "useradd")
	exec.Command("userdel", name).Run() // left by an interrupted run
	testenv.Run(t, nil, "", "useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name)
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

func as(uid, gid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}

// TestConfigFileTrust: a configuration file another user can write, or
// that another user owns, is refused with exit 78 and a message naming the
// file, what is wrong and the fix, by config check, audit and serve, as
// root and as a real unprivileged user (issue 13 item 11).
func TestConfigFileTrust(t *testing.T) {
	aUID, aGID := realUser(t, "gmt-so-a")
	bUID, bGID := realUser(t, "gmt-so-b")
	dir := testenv.Dir(t)
	body := []byte("[goroot]\nrequired = false\n[[target]]\nname = \"build\"\nkind = \"build\"\npath = \"/nonexistent/gomaint-test\"\n")
	file := func(name string, uid, gid int, mode os.FileMode) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, body, 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chown(f, uid, gid)
		os.Chmod(f, mode) // after chown, which may clear bits
		return f
	}
	rootOK := file("root.toml", 0, 0, 0o644)
	rootWorld := file("root-world.toml", 0, 0, 0o666)
	rootGroup := file("root-group.toml", 0, aGID, 0o664)
	aOwn := file("a.toml", aUID, aGID, 0o644)
	aGroup := file("a-group.toml", aUID, aGID, 0o664)
	aWorld := file("a-world.toml", aUID, aGID, 0o666)
	bOwn := file("b.toml", bUID, bGID, 0o644)
	for _, tc := range []struct {
		who  string
		attr *syscall.SysProcAttr
		file string
		want string // "" for accepted
	}{
		{"root", nil, rootOK, ""},
		{"root", nil, rootWorld, "refused: writable by every user (mode 0666), who could make gomaint change any tree; fix: chmod o-w " + rootWorld},
		{"root", nil, rootGroup, "refused: writable by group gmt-so-a (gid " + strconv.Itoa(aGID) + ") (mode 0664), and gomaint runs as root; fix: chmod g-w " + rootGroup},
		{"root", nil, aOwn, "refused: owned by user gmt-so-a (uid " + strconv.Itoa(aUID) + "), but only a file owned by root (gomaint runs as root and trusts no one else's file) may configure gomaint; fix: check its contents, then sudo chown root " + aOwn},
		{"a", as(aUID, aGID), rootOK, ""},
		{"a", as(aUID, aGID), aOwn, ""},
		{"a", as(aUID, aGID), aGroup, ""}, // the user's own group
		{"a", as(aUID, aGID), aWorld, "fix: chmod o-w " + aWorld},
		{"a", as(aUID, aGID), bOwn, "refused: owned by user gmt-so-b (uid " + strconv.Itoa(bUID) + "), but only a file owned by root or uid " + strconv.Itoa(aUID) + " (the user gomaint runs as) may configure gomaint"},
	} {
		env := []string{"HOME=" + dir, "XDG_RUNTIME_DIR=" + dir}
		for _, args := range [][]string{{"config", "check", tc.file}, {"audit", "--config", tc.file}} {
			r := gomaintAs(t, env, tc.attr, append(args, "--log", "none")...)
			switch {
			case tc.want == "" && (args[0] == "config" && r.code != 0 || strings.Contains(r.stderr, "refused")):
				t.Errorf("%s: %v: refused: %+v", tc.who, args, r)
			case tc.want != "" && (r.code != 78 || !strings.Contains(r.stderr, "gomaint: "+tc.file+": ") || !strings.Contains(r.stderr, tc.want)):
				t.Errorf("%s: %v: want exit 78 and %q, got %+v", tc.who, args, tc.want, r)
			}
		}
	}
	// The daemon too, before it starts anything; and a user's default file.
	n := newNotifySocket(t)
	d := startServe(t, serveEnv(t, n), "--config", rootWorld)
	if code := d.wait(t, 10*time.Second); code != 78 || !d.logged("chmod o-w "+rootWorld, 1, 5*time.Second) {
		t.Errorf("serve: exit %d", code)
	}
	home := filepath.Join(dir, "home-a")
	os.MkdirAll(filepath.Join(home, ".config", "gomaint"), 0o755)
	testenv.Run(t, nil, "", "chown", "-R", strconv.Itoa(aUID)+":"+strconv.Itoa(aGID), home)
	def := filepath.Join(home, ".config", "gomaint", "gomaint.toml")
	os.WriteFile(def, body, 0o666)
	os.Chown(def, aUID, aGID)
	os.Chmod(def, 0o666)
	r := gomaintAs(t, []string{"HOME=" + home, "XDG_CONFIG_HOME=", "XDG_RUNTIME_DIR=" + home}, as(aUID, aGID), "config", "check", "--log", "none")
	if r.code != 78 || !strings.Contains(r.stderr, "chmod o-w "+def) {
		t.Errorf("default user file: %+v", r)
	}
}
