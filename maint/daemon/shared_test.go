package daemon

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestSharedUseTracking: in a shared cache a member cannot refresh the
// mtime of an entry someone else owns, so go's own LRU marking fails for
// them. The daemon sees the member open the entry and refreshes it as
// root; a clean by age then keeps what the member used and removes what
// nobody used.
func TestSharedUseTracking(t *testing.T) {
	testenv.Root(t)
	testenv.Command(t, "useradd")
	repo, _ := filepath.Abs("../..")
	testenv.Run(t, nil, "", "systemd-sysusers", filepath.Join(repo, "units/sysusers.d/gomaint.conf"))
	grp, err := user.LookupGroup("gocache")
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(grp.Gid)
	if _, err := user.Lookup("gmt-bob"); err != nil {
		testenv.Run(t, nil, "", "useradd", "--no-create-home", "--groups", "gocache", "gmt-bob")
	}
	bob, _ := user.Lookup("gmt-bob")
	bobUID, _ := strconv.Atoi(bob.Uid)
	bobGID, _ := strconv.Atoi(bob.Gid)

	cache := filepath.Join(testenv.Dir(t), "build")
	names := testenv.BuildCache(t, cache, 4, 1000, 3*time.Hour)
	filepath.Walk(cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			os.Lchown(p, 0, gid)
			if fi.IsDir() {
				os.Chmod(p, 0o2775)
			} else {
				os.Chmod(p, 0o664)
			}
		}
		return nil
	})
	old := time.Now().Add(-3 * time.Hour)
	for _, n := range names {
		os.Chtimes(filepath.Join(cache, n), old, old)
	}
	used, unused := names[0], names[1] // an -a and its -d
	asBob := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(bobUID), Gid: uint32(bobGID), Groups: []uint32{uint32(gid)}}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("%s %v as gmt-bob: %v: %s", name, args, err, out)
		}
		return err
	}
	// The premise: bob may read the entry but not mark it used.
	if asBob("touch", "-m", filepath.Join(cache, used)) == nil {
		t.Fatal("a member could refresh another owner's entry; the test premise is wrong")
	}

	tgt := buildTarget(cache, 0, time.Hour)
	tgt.Mode, tgt.Group, tgt.MaxAge = "shared", "gocache", config.Duration(2*time.Hour)
	d := runDaemon(t, quiet(tgt))
	d.await(t, "last audit", 20*time.Second)

	if err := asBob("cat", filepath.Join(cache, used)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		fi, err := os.Stat(filepath.Join(cache, used))
		if err == nil && time.Since(fi.ModTime()) < time.Minute {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the entry bob read was not marked used: mtime %v", fi.ModTime())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fi, _ := os.Stat(filepath.Join(cache, unused)); time.Since(fi.ModTime()) < time.Hour {
		t.Errorf("an entry nobody opened was refreshed")
	}

	resp, err := Ask(context.Background(), d.socket, Request{Command: "clean"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Outcomes) != 1 || resp.Outcomes[0].Result == nil || resp.Outcomes[0].Units != int64(len(names)-1) {
		t.Errorf("clean by age: %+v", resp.Outcomes)
	}
	if _, err := os.Stat(filepath.Join(cache, used)); err != nil {
		t.Errorf("the entry bob used was removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cache, unused)); err == nil {
		t.Errorf("an entry unused for 3h survived a 2h max_age")
	}
}
