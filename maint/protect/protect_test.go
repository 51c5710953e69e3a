package protect

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/testenv"
	"github.com/gomaint/gomaint/maint/tmpfiles"
)

// TestRenderRegeneratesItsBlock: lines outside gomaint's block stay where
// they are; the block is written anew from the exclusions, so nothing that
// was in it survives, and a second render changes nothing.
func TestRenderRegeneratesItsBlock(t *testing.T) {
	old := "# mine\nx /srv/other\n" + Begin + "\nx \"/old/build\"\nf+ /root/pwned\n" + End + "\nd /srv/keep 0755 - - -\n"
	ex := []Exclusion{{"build", "/new/build"}, {"mod", "/new/mod"}}
	got, dropped, err := Render([]byte(old), ex)
	if err != nil || len(dropped) != 0 {
		t.Fatal(err, dropped)
	}
	want := "# mine\nx /srv/other\n" + Begin + "\n" + header + "# target build\nx \"/new/build\"\n# target mod\nx \"/new/mod\"\n" + End +
		"\nd /srv/keep 0755 - - -\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if again, _, _ := Render(got, ex); string(again) != string(got) {
		t.Errorf("not idempotent:\n%s", again)
	}
	if empty, _, _ := Render(got, nil); strings.Contains(string(empty), "/new/") {
		t.Errorf("a target gone from the configuration kept its line:\n%s", empty)
	}
}

// TestRenderDropsLegacyTail: the old format put a marker before each x
// line and replaced only the line after it, so a line injected through a
// path with a newline survived every later run. gomaint always appended its
// lines at the end: from the first old marker on, the file is gomaint's,
// and what is not an x line there is dropped and reported.
func TestRenderDropsLegacyTail(t *testing.T) {
	old := "# Written by `gomaint protect`: caches that systemd-tmpfiles must not clean.\n" +
		"# gomaint rewrites only the lines after its \"# gomaint protect: target\" comments.\n" +
		"x /srv/admin\n" +
		"# gomaint protect: target build\nx /srv/go\nf+ /root/pwned 0644 root root - owned\n\n"
	got, dropped, err := Render([]byte(old), []Exclusion{{"build", "/srv/go"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "pwned") || strings.Contains(string(got), "rewrites only") || !strings.HasPrefix(string(got), "x /srv/admin\n"+Begin) {
		t.Errorf("got\n%s", got)
	}
	if len(dropped) != 1 || !strings.HasPrefix(dropped[0], "f+ /root/pwned") {
		t.Errorf("dropped %q", dropped)
	}
}

// TestLineRefusesControlCharacters: a newline (or any control character)
// in a path would end the tmpfiles.d line; such a path is refused.
func TestLineRefusesControlCharacters(t *testing.T) {
	for _, p := range []string{"/srv/go\nf+ /root/pwned", "/srv/a\rb", "/srv/\x1b[2J", "/srv/tab\there", "/srv/c1\u0085", "/srv/nul\x00"} {
		_, err := Line(p)
		if err == nil || !strings.Contains(err.Error(), "control character") || strings.ContainsAny(err.Error(), "\n\r\x1b\t\x00") {
			t.Errorf("Line(%q): %v", p, err)
		}
	}
	if _, err := Line("relative/path"); err == nil {
		t.Error("a relative path was accepted")
	}
	if _, _, err := Render(nil, []Exclusion{{"build", "/srv/go\nf+ /root/pwned"}}); err == nil || !strings.Contains(err.Error(), "build") {
		t.Errorf("Render: %v", err)
	}
}

// realRoot makes a scratch root for systemd-tmpfiles --root with an
// etc/tmpfiles.d directory.
func realRoot(t *testing.T) (root, confDir string) {
	testenv.Command(t, "systemd-tmpfiles")
	root = testenv.Dir(t)
	confDir = filepath.Join(root, "etc", "tmpfiles.d")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return root, confDir
}

// TestInjectionCreatesNothing: with the real systemd-tmpfiles --create, a
// cache path holding a newline and an f+ line creates no file, neither
// when protect writes the file nor from a line an old version left behind.
func TestInjectionCreatesNothing(t *testing.T) {
	root, confDir := realRoot(t)
	file := filepath.Join(confDir, "gomaint-local.conf")
	if _, _, err := Apply(file, []Exclusion{{"build", "/srv/go\nf+ /pwned 0644 - - - owned"}}, false); err == nil {
		t.Error("a path with a newline was written")
	}
	legacy := Marker + "build\nx /srv/go\nf+ /pwned2 0644 - - - owned\n"
	if err := os.WriteFile(file, []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Apply(file, []Exclusion{{"build", "/srv/go"}}, false); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, nil, "", "systemd-tmpfiles", "--root="+root, "--create")
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Lstat(filepath.Join(root, f)); err == nil {
			data, _ := os.ReadFile(file)
			t.Errorf("systemd-tmpfiles --create made /%s from:\n%s", f, data)
		}
	}
}

// TestOddPathsProtectedExactly: caches whose names hold a space, %, glob
// characters, quotes, a backslash or bytes that are not UTF-8 are each
// protected from the real systemd-tmpfiles --clean, and nothing more is:
// "st*r" must not shield its sibling "stXr". The maint/tmpfiles reader,
// fed the real --cat-config, agrees on every one.
func TestOddPathsProtectedExactly(t *testing.T) {
	root, confDir := realRoot(t)
	protected := []string{"/srv/go cache", "/srv/a%b", "/srv/%h", "/srv/st*r", "/srv/br[a]", "/srv/qm?", `/srv/bs\l`, `/srv/q"t`, "/srv/sq'x",
		"/srv/n\xffn", "/srv/\u00e9t\u00e9", "/srv/ lead"}
	siblings := []string{"/srv/stXr", "/srv/bra", "/srv/qmX", "/srv/bsl", "/srv/go"}
	old := time.Now().Add(-10 * 24 * time.Hour)
	for _, d := range append(append([]string{}, protected...), siblings...) {
		p := filepath.Join(root, d, "sub")
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(p, "f"), []byte("x"), 0o644)
		os.Chtimes(filepath.Join(p, "f"), old, old)
	}
	os.WriteFile(filepath.Join(confDir, "aging.conf"), []byte("e /srv - - - am:1d\n"), 0o644)
	var ex []Exclusion
	for i, p := range protected {
		ex = append(ex, Exclusion{fmt.Sprintf("t%d", i), p})
	}
	if _, _, err := Apply(filepath.Join(confDir, "gomaint-local.conf"), ex, false); err != nil {
		t.Fatal(err)
	}
	cat := testenv.Run(t, []string{"SYSTEMD_PAGER=cat", "PATH=" + os.Getenv("PATH")}, "", "systemd-tmpfiles", "--root="+root, "--cat-config")
	rules := tmpfiles.Parse([]byte(cat), tmpfiles.SystemSpecifiers())
	testenv.Run(t, nil, "", "systemd-tmpfiles", "--root="+root, "--clean")
	for _, d := range protected {
		if _, err := os.Stat(filepath.Join(root, d, "sub", "f")); err != nil {
			t.Errorf("%q was cleaned", d)
		}
		if v := tmpfiles.Judge(rules, d); !v.Protected() {
			t.Errorf("the reader says %q is cleaned by %v", d, v.Cleaner)
		}
	}
	for _, d := range siblings {
		if _, err := os.Stat(filepath.Join(root, d, "sub", "f")); err == nil {
			t.Errorf("%q was kept: an exclusion matched more than its own path", d)
		}
		if v := tmpfiles.Judge(rules, d); v.Protected() {
			t.Errorf("the reader says %q is protected", d)
		}
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
	file := paths.UserTmpfiles(getenv)
	if changed, _, err := Apply(file, []Exclusion{{"build", cache}}, false); err != nil || !changed {
		t.Fatalf("Apply: %v %v", changed, err)
	}
	if changed, _, _ := Apply(file, []Exclusion{{"build", cache}}, false); changed {
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
