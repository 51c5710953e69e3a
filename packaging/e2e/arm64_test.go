//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// The arm64 root file system is not booted. systemd 252 does boot there
// under qemu's user emulation (degraded: the units that load credentials
// fail with 243/CREDENTIALS), but gomaint.service cannot: its sandbox is
// refused (PrivateNetwork= ends it with 225/NETWORK), and qemu remaps the
// real-time signals, so nspawn's SIGTERM sends that systemd to rescue mode
// instead of powering it off. So each command runs in the root through
// systemd-nspawn without --boot: a chroot with /proc, /sys and /dev, whose
// mounts go away with it. The booted tests (amd64) cover the units.

// arm64Includes: what the arm64 root holds besides minbase. procps is the
// package's Depends; systemd's sysusers and tmpfiles are what the
// postinst runs to make the gocache group and /var/cache/go; acl gives
// getfacl, to see tmpfiles' ACLs.
var arm64Includes = []string{"systemd", "procps", "acl"}

// arm64RootTarball returns a cached tarball of a Debian 12 arm64 root,
// making it when none is fresh: debootstrap's first stage (unpacking) on
// the host, then its second stage (the packages' scripts) in the root,
// its arm64 programs run by qemu through binfmt_misc. That takes several
// minutes, once a week.
func arm64RootTarball(t *testing.T) string {
	t.Helper()
	sum := sha256.Sum256([]byte(baseSuite + " arm64 minbase " + strings.Join(arm64Includes, ",")))
	name := fmt.Sprintf("rootfs-%s-arm64-%s.tar", baseSuite, hex.EncodeToString(sum[:4]))
	return cachedTarball(t, name, func(t *testing.T, root string) {
		debootstrap(t, 20*time.Minute, "--arch=arm64", "--foreign", "--variant=minbase",
			"--include="+strings.Join(arm64Includes, ","), baseSuite, root)
		// In a mount namespace of its own, so that the /proc and /sys
		// the second stage mounts cannot outlive it under root.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, testenv.Command(t, "unshare"), "--mount", "--propagation", "private",
			"chroot", root, "/debootstrap/debootstrap", "--second-stage")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("debootstrap --second-stage in the arm64 root: %v\n%s", err, tail(string(out), 40))
		}
	})
}

// needArm64Emulation needs binfmt_misc to run arm64 programs through
// qemu, with the F flag: qemu is opened when registered, so it runs them
// in a root that has no qemu of its own.
func needArm64Emulation(t *testing.T) {
	t.Helper()
	if runtime.GOARCH == "arm64" {
		return
	}
	b, err := os.ReadFile("/proc/sys/fs/binfmt_misc/qemu-aarch64")
	testenv.Need(t, err == nil && strings.HasPrefix(string(b), "enabled\n"),
		"qemu-aarch64 registered in binfmt_misc (install qemu-user-static; binfmt_misc mounted)")
	flags := ""
	for _, line := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, "flags: "); ok {
			flags = f
		}
	}
	testenv.Need(t, strings.Contains(flags, "F"), "qemu-aarch64's binfmt_misc entry with flag F (has "+flags+")")
}

// arm64GOROOT returns the arm64 release of the host's Go version, as the
// module golang.org/toolchain from the Go module proxy (checked against
// the checksum database), with the execute bits that module zips do not
// keep set as the go command sets them when it switches toolchains.
func arm64GOROOT(t *testing.T) string {
	t.Helper()
	goenv := append(os.Environ(), "GOFLAGS=")
	version := strings.TrimSpace(testenv.Run(t, goenv, "/", "go", "env", "GOVERSION"))
	mod := "golang.org/toolchain@v0.0.1-" + version + ".linux-arm64"
	var dl struct{ Dir, Error string }
	out := testenv.Run(t, goenv, "/", "go", "mod", "download", "-json", mod)
	if err := json.Unmarshal([]byte(out), &dl); err != nil || dl.Error != "" || dl.Dir == "" {
		t.Fatalf("go mod download %s: %v %s\n%s", mod, err, dl.Error, out)
	}
	tools, _ := filepath.Glob(filepath.Join(dl.Dir, "pkg", "tool", "linux_arm64", "*"))
	for _, p := range append(tools, filepath.Join(dl.Dir, "bin", "go"), filepath.Join(dl.Dir, "bin", "gofmt")) {
		if err := os.Chmod(p, 0o555); err != nil {
			t.Fatalf("the arm64 Go from %s: %v", mod, err)
		}
	}
	return dl.Dir
}

// arm64Root is an extracted arm64 root file system; in runs a command in it.
type arm64Root struct {
	root  string
	binds []string
}

// in runs a command in the root (not booted: see above) and returns its
// stdout, stderr and exit status; err is set only when it could not run.
func (r *arm64Root) in(timeout time.Duration, args ...string) (stdout, stderr string, code int, err error) {
	nspawn := []string{"--quiet", "-D", r.root, "--register=no", "--keep-unit", "--pipe"}
	for _, b := range r.binds {
		nspawn = append(nspawn, "--bind-ro="+b)
	}
	for _, kv := range env {
		nspawn = append(nspawn, "--setenv="+kv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "systemd-nspawn", append(append(nspawn, "--"), args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		return o.String(), e.String(), -1, fmt.Errorf("timed out after %v", timeout)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return o.String(), e.String(), ee.ExitCode(), nil
	}
	return o.String(), e.String(), 0, err
}

// must runs a command in the root that must succeed, and returns its stdout.
func (r *arm64Root) must(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, code, err := r.in(2*time.Minute, args...)
	if err != nil || code != 0 {
		t.Fatalf("in the arm64 root: %s: exit %d %v\n%s%s", shellQuote(args), code, err, out, stderr)
	}
	return out
}

// TestArm64Package installs the arm64 .deb with dpkg in a Debian 12 arm64
// root, every arm64 program in it run by qemu, and runs the packaged
// gomaint there: version, and an audit of the system's caches (which the
// postinst made) holding a tiny build cache, with an arm64 Go as GOROOT.
func TestArm64Package(t *testing.T) {
	repo, _ := prerequisites(t, "debootstrap", "unshare", "chroot")
	needArm64Emulation(t)
	dist := testenv.Dir(t)
	type built struct {
		deb string
		err error
	}
	debc := make(chan built, 1)
	go func() { p, err := buildPackageFor(repo, dist, "deb", "arm64", version1); debc <- built{p, err} }()
	goroot := arm64GOROOT(t)
	tarball := arm64RootTarball(t)

	removeStale(t)
	start := time.Now()
	dir, err := os.MkdirTemp(cacheDir, "e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeRoot(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	r := &arm64Root{root: filepath.Join(dir, "root"), binds: []string{goroot + ":" + goRoot}}
	if err := os.Mkdir(r.root, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-C", r.root, "--numeric-owner", "-xf", tarball).CombinedOutput(); err != nil {
		t.Fatalf("extracting %s: %v\n%s", tarball, err, out)
	}
	b := <-debc
	if b.err != nil {
		t.Fatal(b.err)
	}
	inbox := filepath.Join(r.root, "root", "e2e")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, nil, "", "cp", b.deb, inbox)
	deb := "/root/e2e/" + filepath.Base(b.deb)
	t.Logf("phase extract and build: %v", time.Since(start).Round(10*time.Millisecond))

	// Emulation is real: the root's programs are arm64 and the kernel they
	// see says aarch64.
	if m := strings.TrimSpace(r.must(t, "uname", "-m")); m != "aarch64" {
		t.Fatalf("uname -m in the arm64 root: %q", m)
	}
	if a := strings.TrimSpace(r.must(t, "dpkg", "--print-architecture")); a != "arm64" {
		t.Fatalf("dpkg --print-architecture in the arm64 root: %q", a)
	}

	start = time.Now()
	r.must(t, "dpkg", "-i", deb)
	t.Logf("phase dpkg -i: %v", time.Since(start).Round(10*time.Millisecond))
	if st := r.must(t, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Architecture} ${Version}", "gomaint"); st != "ii arm64 "+version1 {
		t.Fatalf("dpkg-query after dpkg -i: %q", st)
	}
	f, err := elf.Open(filepath.Join(r.root, "usr/bin/gomaint"))
	if err != nil {
		t.Fatal(err)
	}
	machine := f.Machine
	f.Close()
	if machine != elf.EM_AARCH64 {
		t.Fatalf("/usr/bin/gomaint of the arm64 package is for %v", machine)
	}
	if out := r.must(t, "gomaint", "version"); out != "gomaint "+version1+"\n" {
		t.Errorf("gomaint version: %q", out)
	}
	// The postinst ran sysusers and tmpfiles: the gocache group, and the
	// shared caches with its ACL.
	if out := r.must(t, "stat", "-c", "%A %U %G", "/var/cache/go/build", "/var/cache/go/mod"); out != "drwxrwsr-x root gocache\ndrwxrwsr-x root gocache\n" {
		t.Errorf("the caches the postinst made: %q", out)
	}
	if out := r.must(t, "getfacl", "-cp", "/var/cache/go/build"); !strings.Contains(out, "default:group:gocache:rwx") {
		t.Errorf("ACL of /var/cache/go/build:\n%s", out)
	}

	// A tiny build cache, made in the root: README, one action entry (175
	// bytes), one output. Go where a distribution puts it, for the
	// required GOROOT of the packaged configuration.
	hexID := strings.Repeat("cd", 32)
	r.must(t, "sh", "-ec", `ln -s `+goRoot+`/bin/go /usr/bin/go
cd /var/cache/go/build
echo 'This directory holds cached build artifacts from the Go build system.' >README
mkdir cd
head -c 175 /dev/zero >cd/`+hexID+`-a
printf output >cd/`+hexID+`-d`)
	start = time.Now()
	out, stderr, code, err := r.in(2*time.Minute, "gomaint", "audit", "--system", "--json", "--log", "none")
	t.Logf("phase audit: %v", time.Since(start).Round(10*time.Millisecond))
	if err != nil || code != 0 {
		t.Fatalf("gomaint audit --system --json: exit %d %v\n%s%s", code, err, out, stderr)
	}
	var report struct {
		Scope  string
		GOROOT struct {
			Path, Version, Code, Reason string
			OK                          bool
		}
		Caches []struct {
			Name          string
			Path          string
			ApparentBytes int64 `json:"apparent_bytes"`
			Files         int64
			Layout        map[string]int64
		}
		Findings []struct{ Code, Severity, Detail string }
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("audit --json: %v\n%s", err, out)
	}
	// An arm64 gomaint accepts only a Go for arm64: OK says it ran the
	// root's go under emulation and found linux/arm64.
	if !report.GOROOT.OK || report.GOROOT.Path == "" || !strings.HasPrefix(report.GOROOT.Version, "go1.") {
		t.Errorf("goroot: %+v", report.GOROOT)
	}
	if report.Scope != "system" || len(report.Caches) != 2 {
		t.Fatalf("audit of the packaged configuration: scope %q, caches %+v", report.Scope, report.Caches)
	}
	c := report.Caches[0]
	if c.Name != "build" || c.Path != "/var/cache/go/build" || c.Files != 3 || c.ApparentBytes != int64(70+175+6) ||
		c.Layout["actions"] != 1 || c.Layout["outputs"] != 1 {
		t.Errorf("audit of the tiny build cache: %+v", c)
	}
	for _, f := range report.Findings {
		if f.Severity != "info" {
			t.Errorf("finding in the arm64 root: %+v", f)
		}
	}
}
