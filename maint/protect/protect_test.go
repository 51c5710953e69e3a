package protect

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/testenv"
)

func TestRenderKeepsOtherLines(t *testing.T) {
	old := []byte("# mine\nx /srv/other\n" + Marker + "build\nx /old/build\nd /srv/keep 0755 - - -\n")
	got := string(Render(old, []Exclusion{{"build", "/new/build"}, {"mod", "/new/mod"}}))
	want := "# mine\nx /srv/other\nd /srv/keep 0755 - - -\n" + Marker + "build\nx /new/build\n" + Marker + "mod\nx /new/mod\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if again := string(Render([]byte(got), []Exclusion{{"build", "/new/build"}, {"mod", "/new/mod"}})); again != got {
		t.Errorf("not idempotent:\n%s", again)
	}
}

// TestProtectAgainstRealTmpfiles: an aging rule would clean the cache;
// after Apply, the real `systemd-tmpfiles --user --clean` removes an old
// sibling and keeps the cache whole.
func TestProtectAgainstRealTmpfiles(t *testing.T) {
	testenv.Command(t, "systemd-tmpfiles")
	dir := testenv.Dir(t)
	area, cache, sibling := filepath.Join(dir, "area"), filepath.Join(dir, "area", "gocache"), filepath.Join(dir, "area", "other")
	for _, d := range []string{filepath.Join(cache, "3f"), sibling} {
		os.MkdirAll(d, 0o755)
	}
	old := time.Now().Add(-5 * 24 * time.Hour)
	files := []string{filepath.Join(cache, "3f", strings.Repeat("ab", 32)+"-a"), filepath.Join(cache, "trim.txt"), filepath.Join(sibling, "stale")}
	for _, f := range files {
		os.WriteFile(f, []byte("x"), 0o644)
		os.Chtimes(f, old, old)
	}
	conf := filepath.Join(dir, "config", "user-tmpfiles.d")
	os.MkdirAll(conf, 0o755)
	// Age by atime and mtime only: a test cannot set ctime back.
	os.WriteFile(filepath.Join(conf, "aging.conf"), []byte("e "+area+" - - - am:1d\n"), 0o644)
	getenv := func(k string) string {
		return map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "config"), "HOME": dir}[k]
	}
	file := UserFile(getenv)
	if changed, err := Apply(file, []Exclusion{{"build", cache}}, false); err != nil || !changed {
		t.Fatalf("Apply: %v %v", changed, err)
	}
	if changed, _ := Apply(file, []Exclusion{{"build", cache}}, false); changed {
		t.Error("second Apply changed the file")
	}
	cmd := exec.Command("systemd-tmpfiles", "--user", "--clean")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-tmpfiles: %v\n%s", err, out)
	}
	if _, err := os.Stat(files[2]); err == nil {
		t.Fatal("the unprotected sibling was not cleaned: the test proves nothing")
	}
	for _, f := range files[:2] {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("protected %s was cleaned", f)
		}
	}
}

// TestPackagedDropIns: the shipped sysusers.d and tmpfiles.d files, applied
// by the real tools to an empty root, make setgid gocache caches with
// default ACLs, and an aging rule over /var/cache leaves them whole.
func TestPackagedDropIns(t *testing.T) {
	testenv.Root(t)
	testenv.Command(t, "systemd-sysusers")
	root := testenv.Dir(t)
	os.MkdirAll(filepath.Join(root, "etc", "tmpfiles.d"), 0o755)
	for _, f := range []string{"passwd", "group", "shadow", "gshadow"} {
		os.WriteFile(filepath.Join(root, "etc", f), nil, 0o644)
	}
	sysusers, _ := filepath.Abs("../../units/sysusers.d/gomaint.conf")
	tmpfilesConf, _ := filepath.Abs("../../units/tmpfiles.d/gomaint.conf")
	// ACL entries name the group through the host's database, as on an
	// installed system: create it there too, with the real tool.
	testenv.Run(t, nil, "", "systemd-sysusers", sysusers)
	testenv.Run(t, nil, "", "systemd-sysusers", "--root="+root, sysusers)
	if out := testenv.Run(t, nil, "", "systemd-tmpfiles", "--root="+root, "--create", tmpfilesConf); out != "" {
		t.Errorf("systemd-tmpfiles --create said: %s", out)
	}
	group, _ := os.ReadFile(filepath.Join(root, "etc", "group"))
	if !strings.HasPrefix(string(group), "gocache:") {
		t.Fatalf("group file: %q", group)
	}
	for _, d := range []string{"build", "mod"} {
		p := filepath.Join(root, "var", "cache", "go", d)
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		if st.Mode&0o7777 != 0o2775 {
			t.Errorf("%s mode %o", d, st.Mode&0o7777)
		}
		for _, attr := range []string{"system.posix_acl_access", "system.posix_acl_default"} {
			if n, err := unix.Getxattr(p, attr, nil); err != nil || n == 0 {
				t.Errorf("%s has no %s: %v", d, attr, err)
			}
		}
		os.WriteFile(filepath.Join(p, "old"), []byte("x"), 0o644)
		old := time.Now().Add(-10 * 24 * time.Hour)
		os.Chtimes(filepath.Join(p, "old"), old, old)
	}
	stale := filepath.Join(root, "var", "cache", "stale")
	os.WriteFile(stale, []byte("x"), 0o644)
	old := time.Now().Add(-10 * 24 * time.Hour)
	os.Chtimes(stale, old, old)
	aging := filepath.Join(root, "etc", "tmpfiles.d", "aging.conf")
	os.WriteFile(aging, []byte("e /var/cache - - - am:1d\n"), 0o644)
	testenv.Run(t, nil, "", "systemd-tmpfiles", "--root="+root, "--clean", aging, tmpfilesConf)
	if _, err := os.Stat(stale); err == nil {
		t.Fatal("the aging rule cleaned nothing: the test proves nothing")
	}
	for _, d := range []string{"build", "mod"} {
		if _, err := os.Stat(filepath.Join(root, "var", "cache", "go", d, "old")); err != nil {
			t.Errorf("%s was cleaned", d)
		}
	}
}
