// Package packaging tests the .deb and .rpm files that build.sh makes, with
// the real tools that judge them: dpkg-deb, rpm, lintian, rpmlint,
// systemd-analyze, man, bash-completion and qemu-aarch64-static. The
// packages are built once per test run, into a temporary directory.
package packaging

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// testVersion has a '~' on purpose: it must survive both formats intact.
const testVersion = "1.2.3~test"

var arches = []string{"amd64", "arm64"}

var rpmArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

// shipped maps each installed file that is a copy of a repository file to
// that file (relative to the repository root), in both formats.
var shipped = map[string]string{
	"/usr/lib/systemd/system/gomaint.service":                       "units/gomaint.service",
	"/usr/lib/systemd/system/gomaint-clean.service":                 "units/gomaint-clean.service",
	"/usr/lib/systemd/system/gomaint-clean.timer":                   "units/gomaint-clean.timer",
	"/usr/lib/systemd/user/gomaint.service":                         "units/user/gomaint.service",
	"/usr/lib/systemd/user/gomaint-clean.service":                   "units/user/gomaint-clean.service",
	"/usr/lib/systemd/user/gomaint-clean.timer":                     "units/user/gomaint-clean.timer",
	"/usr/lib/tmpfiles.d/gomaint.conf":                              "units/tmpfiles.d/gomaint.conf",
	"/usr/lib/sysusers.d/gomaint.conf":                              "units/sysusers.d/gomaint.conf",
	"/usr/lib/systemd/catalog/gomaint.catalog":                      "units/gomaint.catalog",
	"/usr/share/gomaint/profile.d/gomaint-shared-cache.sh":          "units/profile.d/gomaint-shared-cache.sh",
	"/usr/share/gomaint/environment.d/60-gomaint-shared-cache.conf": "units/environment.d/60-gomaint-shared-cache.conf",
	"/etc/gomaint/gomaint.toml":                                     "packaging/gomaint.toml",
	"/usr/share/bash-completion/completions/gomaint":                "packaging/completion/gomaint.bash",
	"/usr/share/doc/gomaint/README.md":                              "README.md",
}

// Files of one format only, also copies of repository files.
var shippedDeb = map[string]string{
	"/usr/share/doc/gomaint/copyright":     "packaging/copyright",
	"/usr/share/lintian/overrides/gomaint": "packaging/lintian-overrides",
}
var shippedRPM = map[string]string{
	"/usr/share/licenses/gomaint/copyright":            "packaging/copyright",
	"/usr/lib/systemd/system-preset/80-gomaint.preset": "packaging/gomaint.preset",
}

var build struct {
	once  sync.Once
	dir   string
	paths map[string]string // "deb/amd64" -> path
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// packages builds the four packages once and returns their paths by
// "FORMAT/ARCH".
func packages(t *testing.T) map[string]string {
	t.Helper()
	testenv.Command(t, "go")
	testenv.Command(t, "git")
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "gomaint-pkg-")
		if err != nil {
			build.err = err
			return
		}
		build.dir = dir
		out, stderr, err := run(nil, "", "./build.sh", "GOMAINT_DIST="+dir, "GOMAINT_VERSION="+testVersion)
		if err != nil {
			build.err = fmt.Errorf("build.sh: %v\n%s", err, stderr)
			return
		}
		build.paths = map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			switch {
			case strings.HasSuffix(line, "_amd64.deb"):
				build.paths["deb/amd64"] = line
			case strings.HasSuffix(line, "_arm64.deb"):
				build.paths["deb/arm64"] = line
			case strings.HasSuffix(line, ".x86_64.rpm"):
				build.paths["rpm/amd64"] = line
			case strings.HasSuffix(line, ".aarch64.rpm"):
				build.paths["rpm/arm64"] = line
			default:
				build.err = fmt.Errorf("build.sh printed %q on stdout: only package paths belong there", line)
				return
			}
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.paths
}

// run runs name with extra environment variables (KEY=VALUE in args before
// the first argument that has no '='), returning stdout and stderr apart.
func run(stdin io.Reader, dir, name string, args ...string) (string, string, error) {
	var env []string
	for len(args) > 0 && strings.Contains(args[0], "=") && !strings.HasPrefix(args[0], "-") {
		env, args = append(env, args[0]), args[1:]
	}
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdin = dir, stdin
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// must runs a command that has to succeed and returns its stdout.
func must(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, stderr, err := run(nil, "", name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// extractDeb unpacks a .deb's files into a new directory.
func extractDeb(t *testing.T, deb string) string {
	t.Helper()
	root := t.TempDir()
	must(t, "dpkg-deb", "-x", deb, root)
	return root
}

// extractRPM unpacks an .rpm's files into a new directory. nfpm stores
// absolute names in the cpio payload: without --no-absolute-filenames,
// cpio run as root would write them over the real /usr and /etc.
func extractRPM(t *testing.T, rpm string) string {
	t.Helper()
	testenv.Command(t, "rpm2cpio")
	testenv.Command(t, "cpio")
	root := t.TempDir()
	_, stderr, err := run(nil, root, "sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet --no-absolute-filenames`, "sh", rpm)
	if err != nil {
		t.Fatalf("unpack %s: %v\n%s", rpm, err, stderr)
	}
	return root
}

func repoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// Debian wants gzip -n: no name, no time stamp.
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("%s: gzip header keeps name %q / time %v", path, zr.Name, zr.ModTime)
	}
	return b
}

// checkTree compares an unpacked package with the repository and checks
// the generated files.
func checkTree(t *testing.T, root, arch string, only map[string]string) {
	t.Helper()
	for dst, src := range merge(shipped, only) {
		got, err := os.ReadFile(filepath.Join(root, dst))
		if err != nil {
			t.Errorf("%s: %v", dst, err)
			continue
		}
		if !bytes.Equal(got, repoFile(t, src)) {
			t.Errorf("%s differs from %s", dst, src)
		}
	}
	if got := gunzip(t, filepath.Join(root, "usr/share/man/man8/gomaint.8.gz")); !bytes.Equal(got, repoFile(t, "packaging/gomaint.8")) {
		t.Errorf("gomaint.8.gz is not packaging/gomaint.8")
	}
	bin := filepath.Join(root, "usr/bin/gomaint")
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("/usr/bin/gomaint mode %v", st.Mode())
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if f.Machine != want {
		t.Errorf("/usr/bin/gomaint is for %v, want %v", f.Machine, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("/usr/bin/gomaint has an interpreter: not static")
		}
	}
	if f.Section(".symtab") != nil {
		t.Errorf("/usr/bin/gomaint keeps its symbol table: not built with -s")
	}
}

func merge(a, b map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

func TestBuildPrintsPackagePaths(t *testing.T) {
	paths := packages(t)
	want := map[string]string{
		"deb/amd64": "gomaint_" + testVersion + "_amd64.deb",
		"deb/arm64": "gomaint_" + testVersion + "_arm64.deb",
		"rpm/amd64": "gomaint-" + testVersion + "-1.x86_64.rpm",
		"rpm/arm64": "gomaint-" + testVersion + "-1.aarch64.rpm",
	}
	for k, name := range want {
		p := paths[k]
		if p != filepath.Join(build.dir, name) {
			t.Errorf("%s: build.sh printed %q, want %s in GOMAINT_DIST", k, p, name)
			continue
		}
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}

// TestVersionFromGit: without GOMAINT_VERSION, one named package is built
// with the version derived from git, stamped in the package and binary.
func TestVersionFromGit(t *testing.T) {
	packages(t) // nfpm and the binaries are built and cached by now
	dir := t.TempDir()
	out, stderr, err := run(nil, "", "./build.sh", "GOMAINT_DIST="+dir, "GOMAINT_VERSION=", "deb", "amd64")
	if err != nil {
		t.Fatalf("build.sh deb amd64: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("build.sh deb amd64 printed %q: want one path", out)
	}
	m := regexp.MustCompile(`/gomaint_(.+)_amd64\.deb$`).FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("path %q", lines[0])
	}
	version := m[1]
	// No tag: 0.0.0~gitYYYYMMDD.HASH; a tag vX.Y.Z: X.Y.Z, X.Y.Z+N.gHASH after it.
	if !regexp.MustCompile(`^(0\.0\.0~git\d{8}\.[0-9a-f]{7,}|\d[0-9A-Za-z.~]*(\+\d+\.g[0-9a-f]+)?)(\.dirty)?$`).MatchString(version) {
		t.Errorf("version from git %q", version)
	}
	head := strings.TrimSpace(must(t, "git", "rev-parse", "--short", "HEAD"))
	if strings.HasPrefix(version, "0.0.0~git") && !strings.Contains(version, "."+head) {
		t.Errorf("version %q does not name commit %s", version, head)
	}
	if got := strings.TrimSpace(must(t, "dpkg-deb", "-f", lines[0], "Version")); got != version {
		t.Errorf("Version field %q, file name says %q", got, version)
	}
	root := extractDeb(t, lines[0])
	if got := must(t, filepath.Join(root, "usr/bin/gomaint"), "version"); got != "gomaint "+version+"\n" {
		t.Errorf("gomaint version: %q", got)
	}
}

func TestBuildRejectsBadVersion(t *testing.T) {
	for _, v := range []string{"1.0-1", "v1.0", "1.0 beta"} {
		out, stderr, err := run(nil, "", "./build.sh", "GOMAINT_DIST="+t.TempDir(), "GOMAINT_VERSION="+v, "deb", "amd64")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || out != "" {
			t.Errorf("GOMAINT_VERSION=%q: err %v, stdout %q, stderr %q", v, err, out, stderr)
		}
	}
}

func TestDeb(t *testing.T) {
	testenv.Command(t, "dpkg-deb")
	paths := packages(t)
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			deb := paths["deb/"+arch]
			fields := map[string]string{
				"Package": "gomaint", "Version": testVersion, "Architecture": arch,
				"Section": "devel", "Depends": "procps",
			}
			for k, want := range fields {
				if got := strings.TrimSpace(must(t, "dpkg-deb", "-f", deb, k)); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if m := must(t, "dpkg-deb", "-f", deb, "Maintainer"); !strings.Contains(m, "@") {
				t.Errorf("Maintainer %q", m)
			}
			if got := must(t, "dpkg-deb", "-I", deb, "conffiles"); got != "/etc/gomaint/gomaint.toml\n" {
				t.Errorf("conffiles: %q", got)
			}
			listing := must(t, "dpkg-deb", "-c", deb)
			for _, p := range append(keys(merge(shipped, shippedDeb)), "/usr/bin/gomaint", "/usr/share/man/man8/gomaint.8.gz", "/usr/share/doc/gomaint/changelog.gz") {
				if !strings.Contains(listing, " ."+p+"\n") {
					t.Errorf("dpkg-deb -c lists no %s", p)
				}
			}
			if !regexp.MustCompile(`(?m)^-rwxr-xr-x root/root .* \./usr/bin/gomaint$`).MatchString(listing) {
				t.Errorf("/usr/bin/gomaint is not root-owned 0755:\n%s", listing)
			}
			root := extractDeb(t, deb)
			checkTree(t, root, arch, shippedDeb)
			changelog := gunzip(t, filepath.Join(root, "usr/share/doc/gomaint/changelog.gz"))
			if !bytes.HasPrefix(changelog, []byte("gomaint ("+testVersion+") ")) {
				t.Errorf("changelog.gz starts %q", changelog[:min(len(changelog), 60)])
			}

			control := t.TempDir()
			must(t, "dpkg-deb", "-e", deb, control)
			for _, s := range []string{"postinst", "prerm", "postrm"} {
				p := filepath.Join(control, s)
				st, err := os.Stat(p)
				if err != nil {
					t.Error(err)
					continue
				}
				if st.Mode().Perm() != 0o755 {
					t.Errorf("%s mode %v", s, st.Mode())
				}
				got, _ := os.ReadFile(p)
				if !bytes.Equal(got, repoFile(t, "packaging/deb/"+s)) {
					t.Errorf("%s is not packaging/deb/%s", s, s)
				}
				must(t, "sh", "-n", p)
			}
		})
	}
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestDebMaintainerScripts checks what each script does for each word
// dpkg passes; running them for real is the end-to-end test's job.
func TestDebMaintainerScripts(t *testing.T) {
	postinst := string(repoFile(t, "packaging/deb/postinst"))
	for _, want := range []string{
		"configure | abort-upgrade", "systemd-sysusers gomaint.conf", "systemd-tmpfiles --create gomaint.conf",
		"journalctl --update-catalog", "deb-systemd-helper --quiet was-enabled", `deb-systemd-helper enable "$unit"`,
		"systemctl --system daemon-reload", "action=restart", "action=start",
		`deb-systemd-invoke "$action" gomaint-clean.timer >/dev/null || true`,
		`deb-systemd-invoke "$action" gomaint.service >/dev/null || true`,
	} {
		if !strings.Contains(postinst, want) {
			t.Errorf("postinst lacks %q", want)
		}
	}
	prerm := string(repoFile(t, "packaging/deb/prerm"))
	if !strings.Contains(prerm, `[ "$1" = remove ]`) || !strings.Contains(prerm, "deb-systemd-invoke stop") {
		t.Errorf("prerm does not stop the units on remove:\n%s", prerm)
	}
	postrm := string(repoFile(t, "packaging/deb/postrm"))
	for _, want := range []string{"deb-systemd-helper mask", "deb-systemd-helper purge", `[ "$1" = purge ]`, "rm -rf /var/lib/gomaint"} {
		if !strings.Contains(postrm, want) {
			t.Errorf("postrm lacks %q", want)
		}
	}
	// Caches are never a maintainer script's to remove.
	for name, s := range map[string]string{"postinst": postinst, "prerm": prerm, "postrm": postrm} {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, "rm ") && strings.Contains(line, "cache") && !strings.HasPrefix(strings.TrimSpace(line), "#") {
				t.Errorf("%s removes a cache: %s", name, line)
			}
			// lintian: start/stop/enable go through deb-systemd-*.
			if regexp.MustCompile(`^\s*systemctl\b`).MatchString(line) && !strings.Contains(line, "daemon-reload") {
				t.Errorf("%s calls systemctl directly: %s", name, line)
			}
		}
	}
}

func TestRPM(t *testing.T) {
	testenv.Command(t, "rpm")
	paths := packages(t)
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			rpm := paths["rpm/"+arch]
			if got := must(t, "rpm", "-qp", "--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}", rpm); got != "gomaint "+testVersion+" 1 "+rpmArch[arch]+" Apache-2.0" {
				t.Errorf("header: %q", got)
			}
			if got := must(t, "rpm", "-qp", "--configfiles", rpm); got != "/etc/gomaint/gomaint.toml\n" {
				t.Errorf("--configfiles: %q", got)
			}
			files := map[string]string{} // path -> "flags mode"
			for _, line := range strings.Split(strings.TrimSpace(must(t, "rpm", "-qp", "--qf", `[%{FILENAMES}|%{FILEFLAGS:fflags}|%{FILEMODES:perms}|%{FILEUSERNAME}:%{FILEGROUPNAME}\n]`, rpm)), "\n") {
				f := strings.SplitN(line, "|", 2)
				files[f[0]] = f[1]
			}
			listed := must(t, "rpm", "-qp", "--list", rpm)
			for _, p := range append(keys(merge(shipped, shippedRPM)), "/usr/bin/gomaint", "/usr/share/man/man8/gomaint.8.gz", "/etc/gomaint") {
				if !strings.Contains(listed, p+"\n") {
					t.Errorf("rpm --list lacks %s", p)
				}
			}
			for p, want := range map[string]string{
				"/etc/gomaint/gomaint.toml":             "cn|-rw-r--r--|root:root", // %config(noreplace)
				"/usr/bin/gomaint":                      "|-rwxr-xr-x|root:root",
				"/usr/share/man/man8/gomaint.8.gz":      "d|-rw-r--r--|root:root", // %doc
				"/usr/share/licenses/gomaint/copyright": "l|-rw-r--r--|root:root", // %license
				"/etc/gomaint":                          "|drwxr-xr-x|root:root",  // owned, so erase removes it
			} {
				if files[p] != want {
					t.Errorf("%s: %q, want %q", p, files[p], want)
				}
			}
			scripts := must(t, "rpm", "-qp", "--scripts", rpm)
			for name, file := range map[string]string{"postinstall": "post", "preuninstall": "preun", "postuninstall": "postun"} {
				body := strings.TrimSpace(string(repoFile(t, "packaging/rpm/"+file)))
				if !strings.Contains(scripts, name+" scriptlet (using /bin/sh):\n"+body) {
					t.Errorf("%s scriptlet is not packaging/rpm/%s:\n%s", name, file, scripts)
				}
			}
			if out := must(t, "rpm", "-K", "--nosignature", rpm); !strings.HasSuffix(out, "digests OK\n") {
				t.Errorf("rpm -K: %s", out)
			}
			checkTree(t, extractRPM(t, rpm), arch, shippedRPM)
		})
	}
}

// TestRPMScriptlets checks the count logic of each scriptlet: rpm passes
// 1 on install, 2+ on upgrade, 0 on erase.
func TestRPMScriptlets(t *testing.T) {
	post := string(repoFile(t, "packaging/rpm/post"))
	preun := string(repoFile(t, "packaging/rpm/preun"))
	postun := string(repoFile(t, "packaging/rpm/postun"))
	for _, c := range []struct{ script, want string }{
		{post, `if [ "$1" -eq 1 ]; then`},
		{post, "systemctl --no-reload preset gomaint.service gomaint-clean.timer"},
		{post, "systemd-sysusers gomaint.conf"},
		{post, "systemd-tmpfiles --create gomaint.conf"},
		{preun, `if [ "$1" -eq 0 ]; then`},
		{preun, "systemctl --no-reload disable --now gomaint.service gomaint-clean.timer"},
		{postun, `if [ "$1" -ge 1 ]; then`},
		{postun, "systemctl try-restart gomaint.service gomaint-clean.timer"},
		{postun, "rm -rf /var/lib/gomaint /run/gomaint"},
	} {
		if !strings.Contains(c.script, c.want) {
			t.Errorf("scriptlet lacks %q", c.want)
		}
	}
	for _, f := range []string{"post", "preun", "postun"} {
		must(t, "sh", "-n", filepath.Join("rpm", f))
	}
	preset := string(repoFile(t, "packaging/gomaint.preset"))
	for _, u := range []string{"enable gomaint.service", "enable gomaint-clean.timer"} {
		if !strings.Contains(preset, u+"\n") {
			t.Errorf("preset lacks %q", u)
		}
	}
}

// overlayRun runs a shell script in a private mount namespace in which the
// unpacked package's /usr/bin and man pages lie over the host's, so
// systemd-analyze finds /usr/bin/gomaint and gomaint(8) as installed,
// while the host stays untouched.
func overlayRun(t *testing.T, root, script string) string {
	t.Helper()
	testenv.Root(t)
	testenv.Command(t, "unshare")
	out, stderr, err := run(nil, "", "unshare", "--mount", "--propagation", "private", "sh", "-ec",
		`mount -t overlay overlay -o lowerdir="$1/usr/bin":/usr/bin /usr/bin
mount -t overlay overlay -o lowerdir="$1/usr/share/man/man8":/usr/share/man/man8 /usr/share/man/man8
`+script, "sh", root)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, stderr)
	}
	return out + stderr
}

func TestUnitsVerify(t *testing.T) {
	testenv.Command(t, "systemd-analyze")
	testenv.Command(t, "man") // verify runs `man gomaint(8)` for Documentation=
	root := extractDeb(t, packages(t)["deb/amd64"])
	out := overlayRun(t, root, `systemd-analyze verify "$1"/usr/lib/systemd/system/gomaint.service "$1"/usr/lib/systemd/system/gomaint-clean.service "$1"/usr/lib/systemd/system/gomaint-clean.timer
XDG_RUNTIME_DIR=$(mktemp -d) systemd-analyze --user verify "$1"/usr/lib/systemd/user/gomaint.service "$1"/usr/lib/systemd/user/gomaint-clean.service "$1"/usr/lib/systemd/user/gomaint-clean.timer`)
	if out != "" {
		t.Errorf("systemd-analyze verify said:\n%s", out)
	}
	// The check is real: without the binary, verify fails (unless the
	// host has a gomaint of its own, which the overlay would show).
	if _, err := os.Stat("/usr/bin/gomaint"); err == nil {
		return
	}
	os.Remove(filepath.Join(root, "usr/bin/gomaint"))
	_, _, err := run(nil, "", "unshare", "--mount", "--propagation", "private", "sh", "-ec",
		`mount -t overlay overlay -o lowerdir="$1/usr/bin":/usr/bin /usr/bin
systemd-analyze verify --man=no "$1"/usr/lib/systemd/system/gomaint.service`, "sh", root)
	if err == nil {
		t.Errorf("systemd-analyze verify passed without /usr/bin/gomaint: the check proves nothing")
	}
}

var exposure = regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`)

// TestUnitsExposure: the system services keep systemd-analyze's exposure
// at 2.5 or lower (systemd-timesyncd: 2.3).
func TestUnitsExposure(t *testing.T) {
	testenv.Command(t, "systemd-analyze")
	xdg := t.TempDir()
	for _, c := range []struct {
		unit string
		user bool
		max  float64
	}{
		{"gomaint.service", false, 2.5},
		{"gomaint-clean.service", false, 2.5},
		// systemd-analyze rates user services as if they ran as root with
		// every capability; they run as the user with none. The sandbox
		// that needs a namespace would imply PrivateUsers=, which shows
		// root-owned entries (after `sudo go build`) and the gocache group
		// as nobody/nogroup: gomaint's findings would be wrong. This bounds
		// what remains.
		{"user/gomaint.service", true, 6.0},
		{"user/gomaint-clean.service", true, 6.0},
	} {
		args := []string{"security", "--offline=yes", filepath.Join("..", "units", c.unit)}
		if c.user {
			args = append([]string{"XDG_RUNTIME_DIR=" + xdg, "--user"}, args...)
		}
		out, stderr, _ := run(nil, "", "systemd-analyze", args...)
		m := exposure.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("%s: no exposure level in:\n%s%s", c.unit, out, stderr)
			continue
		}
		score, _ := strconv.ParseFloat(m[1], 64)
		t.Logf("%s: exposure %.1f", c.unit, score)
		if score > c.max {
			t.Errorf("%s: exposure %.1f, above %.1f", c.unit, score, c.max)
		}
	}
}

// unit parses a unit file into section.Key -> values.
func unit(t *testing.T, rel string) map[string][]string {
	t.Helper()
	u := map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(repoFile(t, filepath.Join("units", rel))), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
		default:
			k, v, _ := strings.Cut(line, "=")
			u[section+"."+k] = append(u[section+"."+k], v)
		}
	}
	return u
}

func one(u map[string][]string, key string) string {
	if v := u[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// TestUnitContracts checks what others rely on: the daemon's CLI, notify
// and watchdog, no restart loop on exit 78, directories shared with the
// clean service, and the timer.
func TestUnitContracts(t *testing.T) {
	for rel, want := range map[string]map[string]string{
		"gomaint.service": {
			"Service.Type": "notify", "Service.ExecStart": "/usr/bin/gomaint serve --system",
			"Service.ExecReload": "/bin/kill -HUP $MAINPID", "Service.Restart": "on-failure",
			"Service.RestartPreventExitStatus": "78", "Service.WatchdogSec": "60s",
			"Service.StateDirectory": "gomaint", "Service.RuntimeDirectory": "gomaint",
			"Service.RuntimeDirectoryPreserve": "yes", "Install.WantedBy": "multi-user.target",
			"Service.ReadWritePaths":        "-/var/cache/go -/var/lib/prometheus/node-exporter",
			"Service.CapabilityBoundingSet": "CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID",
			// The heart of the sandbox; the clean service must match it.
			"Service.ProtectSystem": "strict", "Service.ProtectHome": "read-only", "Service.PrivateTmp": "yes",
			"Service.PrivateNetwork": "yes", "Service.RestrictAddressFamilies": "AF_UNIX",
			"Service.NoNewPrivileges": "yes", "Service.SystemCallFilter": "@system-service",
		},
		"gomaint-clean.service": {
			"Service.Type": "oneshot", "Service.ExecStart": "/usr/bin/gomaint clean --system",
			"Service.StateDirectory": "gomaint", "Service.RuntimeDirectory": "gomaint",
			"Service.RuntimeDirectoryPreserve": "yes",
			"Service.ReadWritePaths":           "-/var/cache/go -/var/lib/prometheus/node-exporter",
		},
		"user/gomaint.service": {
			"Service.Type": "notify", "Service.ExecStart": "/usr/bin/gomaint serve",
			"Service.ExecReload": "/bin/kill -HUP $MAINPID", "Service.Restart": "on-failure",
			"Service.RestartPreventExitStatus": "78", "Service.WatchdogSec": "60s",
			"Service.RuntimeDirectory": "gomaint", "Service.RuntimeDirectoryPreserve": "yes",
			"Install.WantedBy": "default.target",
		},
		"user/gomaint-clean.service": {
			"Service.Type": "oneshot", "Service.ExecStart": "/usr/bin/gomaint clean",
			"Service.RuntimeDirectory": "gomaint", "Service.RuntimeDirectoryPreserve": "yes",
		},
		"gomaint-clean.timer": {
			"Timer.OnCalendar": "daily", "Timer.Persistent": "true", "Timer.RandomizedDelaySec": "1h",
			"Install.WantedBy": "timers.target",
		},
		"user/gomaint-clean.timer": {
			"Timer.OnCalendar": "daily", "Timer.Persistent": "true", "Timer.RandomizedDelaySec": "1h",
			"Install.WantedBy": "timers.target",
		},
	} {
		u := unit(t, rel)
		for k, v := range want {
			if got := strings.Join(u[k], " "); got != v {
				t.Errorf("%s: %s=%q, want %q", rel, k, got, v)
			}
		}
		// Without it, a blocked call kills one thread and a Go program hangs.
		if len(u["Service.SystemCallFilter"]) > 0 && one(u, "Service.SystemCallErrorNumber") != "EPERM" {
			t.Errorf("%s: SystemCallFilter= without SystemCallErrorNumber=EPERM", rel)
		}
		// The daemon runs `go env` and `go version` from GOROOT.
		if len(u["Service.NoExecPaths"]) > 0 {
			t.Errorf("%s: NoExecPaths= would stop gomaint running go", rel)
		}
		// The journal's large-entry fallback passes a file from /dev/shm.
		for _, k := range []string{"Service.InaccessiblePaths", "Service.TemporaryFileSystem"} {
			if strings.Contains(strings.Join(u[k], " "), "/dev/shm") {
				t.Errorf("%s: %s hides /dev/shm", rel, k)
			}
		}
	}
	// gomaint clean --system does what the daemon does when no daemon
	// runs: it needs the same sandbox, no more.
	daemon, clean := unit(t, "gomaint.service"), unit(t, "gomaint-clean.service")
	for k := range merge(flat(daemon), flat(clean)) {
		switch {
		case !strings.HasPrefix(k, "Service."):
		case k == "Service.Type", k == "Service.ExecStart", k == "Service.ExecReload", k == "Service.Restart",
			k == "Service.RestartSec", k == "Service.RestartPreventExitStatus", k == "Service.WatchdogSec",
			k == "Service.Nice", k == "Service.IOSchedulingClass", k == "Service.IOSchedulingPriority":
		default:
			if a, b := strings.Join(daemon[k], " "), strings.Join(clean[k], " "); a != b {
				t.Errorf("%s: gomaint.service has %q, gomaint-clean.service %q", k, a, b)
			}
		}
	}
}

func flat(u map[string][]string) map[string]string {
	m := map[string]string{}
	for k, v := range u {
		m[k] = strings.Join(v, " ")
	}
	return m
}

// justified reads an override or filter file and fails for any entry that
// has no comment right above it (its own, or its group's).
func justified(t *testing.T, rel string, isEntry func(string) bool) []string {
	t.Helper()
	var entries []string
	commented := false
	for _, line := range strings.Split(string(repoFile(t, rel)), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#"):
			commented = true
		case line == "":
			commented = false
		case isEntry(line):
			if !commented {
				t.Errorf("%s: %q has no comment saying why", rel, line)
			}
			entries = append(entries, line)
		}
	}
	return entries
}

func TestLintian(t *testing.T) {
	testenv.Command(t, "lintian")
	paths := packages(t)
	overrides := justified(t, "packaging/lintian-overrides", func(string) bool { return true })
	out, stderr, err := run(nil, "", "lintian", "--pedantic", "-I", "-E", "--show-overrides", paths["deb/amd64"], paths["deb/arm64"])
	// Exit status 2 means tags were shown: with --show-overrides, also
	// overridden ones. Which tags they are is checked below.
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 2) {
		t.Errorf("lintian: %v\n%s", err, stderr)
	}
	t.Logf("lintian:\n%s", out)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		tag := f[2]
		switch {
		case strings.HasPrefix(line, "E: "):
			t.Errorf("lintian error: %s", line)
		case strings.HasPrefix(line, "O: "):
			found := false
			for _, o := range overrides {
				found = found || strings.HasPrefix(o, "gomaint: "+tag)
			}
			if !found {
				t.Errorf("override not in packaging/lintian-overrides: %s", line)
			}
		}
		if strings.Contains(tag, "override") { // unused-, mismatched-, malformed-override
			t.Errorf("lintian: %s", line)
		}
	}
	if strings.Contains(stderr, "rror") {
		t.Errorf("lintian stderr: %s", stderr)
	}
}

func TestRpmlint(t *testing.T) {
	testenv.Command(t, "rpmlint")
	testenv.Command(t, "cpio")
	testenv.Command(t, "rpm")
	paths := packages(t)
	justified(t, "packaging/gomaint.rpmlintrc", func(l string) bool { return strings.HasPrefix(l, "addFilter(") })
	// rpmlint unpacks with cpio; the package's files must land in its
	// directory, not over the host's.
	list := strings.Fields(must(t, "rpm", "-qp", "--list", paths["rpm/amd64"]))
	existed := map[string]bool{}
	for _, p := range list {
		_, err := os.Lstat(p)
		existed[p] = err == nil
	}
	out, stderr, err := run(nil, "", "./rpmlint.sh", paths["rpm/amd64"], paths["rpm/arm64"])
	t.Logf("rpmlint:\n%s%s", out, stderr)
	if err != nil {
		t.Errorf("rpmlint: %v", err)
	}
	if !strings.Contains(out, "2 packages and 0 specfiles checked; 0 errors") {
		t.Errorf("rpmlint found errors")
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, ": E: ") {
			t.Errorf("rpmlint error: %s", line)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(list))) // files before their directories
	for _, p := range list {
		if _, err := os.Lstat(p); err == nil && !existed[p] {
			os.Remove(p)
			t.Errorf("rpmlint wrote %s onto the host", p)
		}
	}
}

// TestDefaultConfig: the shipped /etc/gomaint/gomaint.toml passes the
// shipped binary's own check, and says what the package sets up.
func TestDefaultConfig(t *testing.T) {
	testenv.Root(t)
	testenv.Command(t, "systemd-sysusers")
	root := extractDeb(t, packages(t)["deb/amd64"])
	// The shared targets name the group that postinst creates; create it
	// here the same way.
	must(t, "systemd-sysusers", filepath.Join(root, "usr/lib/sysusers.d/gomaint.conf"))
	bin, conf := filepath.Join(root, "usr/bin/gomaint"), filepath.Join(root, "etc/gomaint/gomaint.toml")
	if out := must(t, bin, "config", "check", conf); !strings.Contains(out, "ok, 2 targets") {
		t.Errorf("config check: %q", out)
	}
	show := must(t, bin, "config", "show", "--system", "--config", conf)
	for _, want := range []string{
		`clean_schedule = ""`, // gomaint-clean.timer cleans; the daemon must not clean too
		`path = "/var/cache/go/build"`, `path = "/var/cache/go/mod"`,
		`mode = "shared"`, `group = "gocache"`, // what tmpfiles.d/gomaint.conf makes
		`required = true`,
	} {
		if !strings.Contains(show, want) {
			t.Errorf("config show lacks %s:\n%s", want, show)
		}
	}
	// Uncommenting the documented [goroot] path must give a valid file.
	edited := filepath.Join(t.TempDir(), "gomaint.toml")
	os.WriteFile(edited, bytes.Replace(repoFile(t, "packaging/gomaint.toml"), []byte(`# path = "/usr/local/go"`), []byte(`path = "/usr/local/go"`), 1), 0o644)
	if out := must(t, bin, "config", "show", "--system", "--config", edited); !strings.Contains(out, `path = "/usr/local/go"`) {
		t.Errorf("uncommented goroot path not in effect:\n%s", out)
	}
}

// TestArm64UnderQemu runs the arm64 binary from the arm64 package.
func TestArm64UnderQemu(t *testing.T) {
	qemu := testenv.Command(t, "qemu-aarch64-static")
	root := extractRPM(t, packages(t)["rpm/arm64"])
	bin := filepath.Join(root, "usr/bin/gomaint")
	if out := must(t, qemu, bin, "version"); out != "gomaint "+testVersion+"\n" {
		t.Errorf("version: %q", out)
	}
	// A tiny build cache: README, one action entry (175 bytes), one output.
	dir := testenv.Dir(t)
	build := filepath.Join(dir, "gocache")
	hex := strings.Repeat("ab", 32)
	os.MkdirAll(filepath.Join(build, "ab"), 0o755)
	os.WriteFile(filepath.Join(build, "README"), []byte("This directory holds cached build artifacts from the Go build system.\n"), 0o644)
	os.WriteFile(filepath.Join(build, "ab", hex+"-a"), bytes.Repeat([]byte{'x'}, 175), 0o644)
	os.WriteFile(filepath.Join(build, "ab", hex+"-d"), []byte("output"), 0o644)
	conf := filepath.Join(dir, "gomaint.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf("[goroot]\nrequired = false\n\n[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\n", build)), 0o644)
	out, stderr, err := run(nil, "", qemu, bin, "audit", "--json", "--log", "none", "--config", conf)
	if err != nil {
		t.Fatalf("audit: %v\n%s%s", err, out, stderr)
	}
	var report struct {
		GOROOT struct{ Code, Reason string } `json:"goroot"`
		Caches []struct {
			Name   string
			Bytes  int64
			Files  int64
			Layout map[string]int64
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("audit --json: %v\n%s", err, out)
	}
	if len(report.Caches) != 1 || report.Caches[0].Files != 3 || report.Caches[0].Bytes != int64(70+175+6) ||
		report.Caches[0].Layout["actions"] != 1 || report.Caches[0].Layout["outputs"] != 1 {
		t.Errorf("audit of the tiny cache: %+v", report.Caches)
	}
	// The GOROOT here holds an amd64 go: the binary knows it is arm64.
	if runtime.GOARCH == "amd64" && (report.GOROOT.Code != "" && !strings.Contains(report.GOROOT.Reason, "arm64")) {
		t.Errorf("goroot: %+v", report.GOROOT)
	}
}

func TestManPage(t *testing.T) {
	testenv.Command(t, "man")
	out, stderr, err := run(nil, "", "man", "LC_ALL=C.UTF-8", "MANWIDTH=80", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", "gomaint.8")
	if err != nil || stderr != "" || out == "" {
		t.Errorf("man --warnings: %v\n%s", err, stderr)
	}
	page := string(repoFile(t, "packaging/gomaint.8"))
	// Every command of the CLI is documented.
	for _, cmd := range []string{"audit", "clean", "fix", "protect", "check goroot", "serve", "status", "config check", "config show", "version"} {
		if !strings.Contains(page, ".B "+cmd) {
			t.Errorf("gomaint.8 does not document %q", cmd)
		}
	}
}

func TestBashCompletion(t *testing.T) {
	const lib = "/usr/share/bash-completion/bash_completion"
	_, err := os.Stat(lib)
	testenv.Need(t, err == nil, "bash-completion ("+lib+")")
	for line, want := range map[string]string{
		"gomaint cl":                 "clean",
		"gomaint config ":            "check show",
		"gomaint check ":             "goroot",
		"gomaint audit --fail-on ":   "error info warning",
		"gomaint --system clean --d": "--dry-run",
		"gomaint status --":          "--config --json --log --system",
		"gomaint audit --log ":       "auto journal none stderr",
		"gomaint --":                 "--config --log --system",
		"gomaint --config f.toml au": "audit",
	} {
		script := `source ` + lib + `
source completion/gomaint.bash
COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_gomaint gomaint "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '`
		out := strings.TrimSpace(must(t, "bash", "-c", script, "bash", line))
		if out != want {
			t.Errorf("%q completes to %q, want %q", line, out, want)
		}
	}
}
