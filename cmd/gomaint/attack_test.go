package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/testenv"
)

// Tests in this file play a local attacker: a real unprivileged user made
// with useradd, who owns a cache that root maintains.

// snapshot lists every entry under dir with its owner, mode and mtime, to
// show that nothing under it changed.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s %d:%d %o %d", p, st.Uid, st.Gid, st.Mode, st.Mtim.Sec))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// vault makes a root-only directory holding a build cache whose entries
// are old enough for any clean: what an attacker wants root to touch.
func vault(t *testing.T, dir string) (vault, names string) {
	t.Helper()
	v := filepath.Join(dir, "vault")
	got := testenv.BuildCache(t, filepath.Join(v, "go-build"), 8, 64, 72*time.Hour)
	if err := os.Chmod(v, 0o700); err != nil {
		t.Fatal(err)
	}
	return v, filepath.Base(got[0])
}

func systemTarget(t *testing.T, dir, path, owner string) string {
	t.Helper()
	f := filepath.Join(dir, "gomaint.toml")
	body := fmt.Sprintf("[goroot]\nrequired = false\n[[target]]\nname = \"sf-build\"\nkind = \"build\"\npath = %q\nowner = %q\n", path, owner)
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestAttackerLinkInCachePath: the owner of a private cache that root
// maintains swaps their go-build, or .cache above it, for a symbolic link
// to a root-only directory. fix, audit and clean as root refuse the target
// with a finding naming the link and its owner, and the root-only
// directory is not changed, read into the report, or trimmed.
func TestAttackerLinkInCachePath(t *testing.T) {
	testenv.Root(t)
	for _, tc := range []struct{ name, link, to string }{
		{"go-build", ".cache/go-build", "vault/go-build"},
		{"dir above", ".cache", "vault"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testenv.Dir(t)
			u := testenv.NewUser(t, "gmt-sf-mallory", dir)
			v, sample := vault(t, dir)
			u.Sh(t, "mkdir -p .cache && rm -rf "+tc.link+" && ln -s "+filepath.Join(dir, tc.to)+" "+tc.link)
			f := systemTarget(t, dir, filepath.Join(u.Home, ".cache", "go-build"), u.Name)
			before := snapshot(t, v)
			link := filepath.Join(u.Home, tc.link)
			for _, args := range [][]string{
				{"fix", "--system"},
				{"audit", "--system", "--json"},
				{"clean", "--system", "--max-age", "1d"},
			} {
				r := gomaint(t, nil, append(args, "--config", f, "--log", "none")...)
				if r.code == 0 || !strings.Contains(r.stdout, link+" is a symbolic link") || !strings.Contains(r.stdout, "gmt-sf-mallory") {
					t.Errorf("%v: %+v; want a refusal naming %s and its owner", args, r, link)
				}
				if strings.Contains(r.stdout, sample) || strings.Contains(r.stdout, "vault") {
					t.Errorf("%v reports what the root-only directory holds: %s", args, r.stdout)
				}
				if args[0] == "audit" && !strings.Contains(r.stdout, `"code": "UNSAFE_PATH"`) {
					t.Errorf("audit: no UNSAFE_PATH finding: %s", r.stdout)
				}
				if after := snapshot(t, v); after != before {
					t.Fatalf("%v changed the root-only directory:\nbefore:\n%s\nafter:\n%s", args, before, after)
				}
			}
		})
	}
}

// TestRootsLinkInCachePath: a link that only root could have made (in a
// root-owned directory no one else can write) is followed: an admin's
// /var/cache/go -> /srv/go keeps working, and the real path is reported.
func TestRootsLinkInCachePath(t *testing.T) {
	testenv.Root(t)
	dir := testenv.Dir(t)
	u := testenv.NewUser(t, "gmt-sf-alice", dir)
	srv := filepath.Join(dir, "srv", "go")
	testenv.BuildCache(t, filepath.Join(srv, "build"), 4, 64, 0)
	testenv.Run(t, nil, "", "chown", "-R", u.Name+":", filepath.Join(srv, "build"))
	os.Chown(filepath.Join(srv, "build", "0c"), 0, 0) // left by sudo go build
	os.Mkdir(filepath.Join(dir, "etc"), 0o755)
	if err := os.Symlink(srv, filepath.Join(dir, "etc", "go")); err != nil {
		t.Fatal(err)
	}
	f := systemTarget(t, dir, filepath.Join(dir, "etc", "go", "build"), u.Name)
	r := gomaint(t, nil, "fix", "--system", "--config", f, "--log", "none")
	var st syscall.Stat_t
	syscall.Stat(filepath.Join(srv, "build", "0c"), &st)
	if r.code != 0 || !strings.Contains(r.stdout, filepath.Join(srv, "build")+": gave 1 entries") || st.Uid != uint32(u.UID) {
		t.Errorf("fix: %+v; 0c owned by %d", r, st.Uid)
	}
	r = gomaint(t, nil, "audit", "--system", "--config", f, "--json", "--log", "none")
	if r.code != 0 || !strings.Contains(r.stdout, `"path": "`+filepath.Join(srv, "build")+`"`) {
		t.Errorf("audit: %+v", r)
	}
}

// TestAttackerExchangesPath: while root runs fix, audit and clean again
// and again, the attacker swaps their real .cache and a symbolic link to
// the root-only directory with RENAME_EXCHANGE, so some runs resolve the
// real directory and open the link. Nothing in the root-only directory
// changes.
func TestAttackerExchangesPath(t *testing.T) {
	testenv.Root(t)
	dir := testenv.Dir(t)
	u := testenv.NewUser(t, "gmt-sf-eve", dir)
	v, sample := vault(t, dir)
	testenv.BuildCache(t, filepath.Join(u.Home, ".cache", "go-build"), 4, 64, 72*time.Hour)
	testenv.Run(t, nil, "", "chown", "-R", u.Name+":", filepath.Join(u.Home, ".cache"))
	u.Sh(t, "ln -s "+v+" link")
	before := snapshot(t, v)
	f := systemTarget(t, dir, filepath.Join(u.Home, ".cache", "go-build"), u.Name)

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exchanger := filepath.Join(dir, "exchanger")
	testenv.Run(t, nil, "", "cp", self, exchanger)
	os.Chmod(exchanger, 0o755)
	cmd := exec.Command(exchanger)
	cmd.Env = []string{exchangeEnv + "=" + filepath.Join(u.Home, ".cache") + ":" + filepath.Join(u.Home, "link")}
	cmd.SysProcAttr = u.Attr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	refused := 0
	for i := 0; i < 10; i++ {
		for _, args := range [][]string{{"fix", "--system"}, {"audit", "--system"}, {"clean", "--system", "--max-age", "1d", "--dry-run"}} {
			r := gomaint(t, nil, append(args, "--config", f, "--log", "none")...)
			if strings.Contains(r.stdout, sample) {
				t.Fatalf("%v reports what the root-only directory holds: %s", args, r.stdout)
			}
			if r.code != 0 {
				refused++
			}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if after := snapshot(t, v); after != before {
		t.Fatalf("the root-only directory changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	t.Logf("%d of 30 runs refused the target", refused)
}

// exchangeEnv makes the test binary an attacker's helper: it swaps two
// paths with RENAME_EXCHANGE until it is killed.
const exchangeEnv = "GOMAINT_TEST_EXCHANGE"

func exchangeLoop() {
	a, b, _ := strings.Cut(os.Getenv(exchangeEnv), ":")
	for {
		if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// TestAttackerPlantsSetuid: a user who can write a root-owned private
// cache (the WORLD_WRITABLE case fix exists for) plants world-writable
// setuid and setgid copies of a program (so that fix changes their mode
// too) and a directory with every special bit. After
// gomaint fix gives them to root, no entry has a setuid, setgid or sticky
// bit, and the program, run by the user, still runs with the user's euid.
func TestAttackerPlantsSetuid(t *testing.T) {
	testenv.Root(t)
	dir := testenv.Dir(t)
	u := testenv.NewUser(t, "gmt-sf-trudy", dir)
	cache := filepath.Join(dir, "cache")
	testenv.BuildCache(t, cache, 2, 64, 0)
	testenv.Run(t, nil, "", "chmod", "-R", "a+rwX", cache)
	id := testenv.Command(t, "id")
	out := filepath.Join(cache, "ab", strings.Repeat("ab", 32)+"-d")
	u.Sh(t, fmt.Sprintf("cp %s %s && chmod 4757 %s && cp %s %s.g && chmod 2757 %s.g && mkdir -m 7777 %s/ab/x && chmod 7777 %s/ab/x",
		id, out, out, id, out, out, cache, cache))
	if got := strings.TrimSpace(u.Sh(t, out+" -u")); got != fmt.Sprint(u.UID) {
		t.Fatalf("before fix the planted copy runs as %s", got)
	}
	f := systemTarget(t, dir, cache, "")
	if r := gomaint(t, nil, "fix", "--system", "--config", f, "--log", "none"); r.code != 0 {
		t.Fatalf("fix: %+v", r)
	}
	for _, p := range []string{out, out + ".g", filepath.Join(cache, "ab", "x"), cache} {
		var st syscall.Stat_t
		syscall.Lstat(p, &st)
		if st.Uid != 0 || st.Mode&0o7002 != 0 {
			t.Errorf("%s: uid %d mode %04o; want root's, without special bits or write for others", p, st.Uid, st.Mode&0o7777)
		}
	}
	if got := strings.TrimSpace(u.Sh(t, out+" -u")); got != fmt.Sprint(u.UID) {
		t.Errorf("after fix the planted copy runs with euid %s, not the user's %d", got, u.UID)
	}
}

// TestSudoFixGivesCacheToUser: `sudo -E gomaint fix` in the user scope
// gives the invoking user's cache back to them (SUDO_UID), whether they
// own its root or `sudo go build` made it; it never gives a cache to root,
// and refuses a SUDO_UID that does not own the cache it names (GOCACHE
// comes from the caller's environment), changing nothing there. The audit
// judges the cache by the same owner.
func TestSudoFixGivesCacheToUser(t *testing.T) {
	testenv.Root(t)
	dir := testenv.Dir(t)
	u := testenv.NewUser(t, "gmt-sf-sudoer", dir)
	victim := testenv.NewUser(t, "gmt-sf-victim", dir)
	run := filepath.Join(dir, "run") // root's runtime directory, for the lock
	os.Mkdir(run, 0o700)
	// cache makes a build cache at path owned by owner, with a shard and
	// trim.txt left by root, and its root owned by rootUID.
	cache := func(path string, owner, rootUID int) {
		testenv.BuildCache(t, path, 2, 64, 0)
		os.WriteFile(filepath.Join(path, "trim.txt"), []byte("1\n"), 0o644)
		testenv.Run(t, nil, "", "chown", "-R", fmt.Sprint(owner), path)
		os.Chown(filepath.Join(path, "2d"), 0, 0)
		os.Chown(filepath.Join(path, "trim.txt"), 0, 0)
		os.Chown(path, rootUID, -1)
	}
	owners := func(path string) map[uint32]int {
		n := map[uint32]int{}
		filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			var st syscall.Stat_t
			if err == nil && syscall.Lstat(p, &st) == nil {
				n[st.Uid]++
			}
			return nil
		})
		return n
	}
	for _, tc := range []struct {
		name, gocache string
		owner, root   int // of the cache and of its root directory
		sudo          bool
		want          string // "" for success
	}{
		{"own cache", filepath.Join(u.Home, ".cache", "go-build"), u.UID, u.UID, true, ""},
		{"root made the cache", filepath.Join(u.Home, ".cache", "go-build"), u.UID, 0, true, ""},
		{"without sudo", filepath.Join(u.Home, ".cache", "go-build"), u.UID, u.UID, false, ""},
		{"another user's cache", filepath.Join(victim.Home, ".cache", "go-build"), victim.UID, victim.UID, true, "belongs to gmt-sf-victim, not to gmt-sf-sudoer, who ran sudo"},
		{"root's directory", filepath.Join(dir, "srv", "go-build"), u.UID, 0, true, "belongs to root, not to gmt-sf-sudoer"},
		{"root's own cache", filepath.Join(dir, "srv", "go-build"), 0, 0, false, "never gives a cache to root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.RemoveAll(tc.gocache)
			os.MkdirAll(filepath.Dir(tc.gocache), 0o755)
			if filepath.Dir(filepath.Dir(tc.gocache)) != dir { // a .cache in a home
				os.Chown(filepath.Dir(tc.gocache), tc.owner, tc.owner)
			}
			cache(tc.gocache, tc.owner, tc.root)
			before := owners(tc.gocache)
			env := []string{"HOME=" + u.Home, "USER=root", "GOCACHE=" + tc.gocache, "GOMODCACHE=" + filepath.Join(u.Home, "go", "pkg", "mod"),
				"XDG_RUNTIME_DIR=" + run, "XDG_CONFIG_HOME=" + filepath.Join(u.Home, ".config"), "GOFLAGS=", "SUDO_UID=", "SUDO_GID=", "SUDO_USER="}
			if tc.sudo {
				env = append(env, fmt.Sprintf("SUDO_UID=%d", u.UID), fmt.Sprintf("SUDO_GID=%d", u.GID), "SUDO_USER="+u.Name)
			}
			r := gomaint(t, env, "fix", "--target", "build", "--log", "none")
			got := owners(tc.gocache)
			if tc.want == "" {
				if r.code != 0 || len(got) != 1 || got[uint32(tc.owner)] == 0 {
					t.Errorf("%+v; owners by uid now %v, want all %d", r, got, tc.owner)
				}
				// The audit judges the cache by the same owner.
				r = gomaint(t, env, "audit", "--target", "build", "--json", "--log", "none")
				if !strings.Contains(r.stdout, `"owner": "`+u.Name+`"`) || strings.Contains(r.stdout, "FOREIGN_OWNER") {
					t.Errorf("audit after fix: %+v", r)
				}
				return
			}
			if r.code == 0 || !strings.Contains(r.stdout, tc.want) || fmt.Sprint(got) != fmt.Sprint(before) {
				t.Errorf("%+v; owners by uid %v -> %v; want a refusal saying %q and no change", r, before, got, tc.want)
			}
		})
	}
	// The user's own configuration cannot widen it either: as root, a user
	// target configured for another owner, or shared, is refused.
	mine := filepath.Join(u.Home, ".cache", "go-build")
	cache(mine, u.UID, u.UID)
	before := owners(mine)
	for body, want := range map[string]string{
		fmt.Sprintf("owner = %q\n", victim.Name):               "not to the configured owner",
		fmt.Sprintf("mode = \"shared\"\ngroup = %q\n", u.Name): "is a shared cache: as root, repair it with --system",
	} {
		f := filepath.Join(dir, "user.toml")
		os.WriteFile(f, []byte(fmt.Sprintf("[goroot]\nrequired = false\n[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\n%s", mine, body)), 0o644)
		env := []string{"HOME=" + u.Home, fmt.Sprintf("SUDO_UID=%d", u.UID), "XDG_RUNTIME_DIR=" + run}
		if r := gomaint(t, env, "fix", "--config", f, "--log", "none"); r.code == 0 || !strings.Contains(r.stdout, want) || fmt.Sprint(owners(mine)) != fmt.Sprint(before) {
			t.Errorf("%q: %+v; want a refusal saying %q and no change", body, r, want)
		}
	}
}
