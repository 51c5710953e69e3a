// Package goroot decides whether a Go installation is usable: present, a real
// Go root, built for this machine, runnable, and new enough.
//
// It answers quickly (one stat walk and one `go version`, bounded by a
// timeout) because it runs as ExecStartPre= of other people's services.
// Verify, which reads every file, is the slow exception: only
// `check goroot --verify` asks for it, never a start-up check. It reads
// GOROOT as root without following a link out of it (safety 1), and
// trusts only baselines no one but root (or this user) could have written.
package goroot

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
)

// Finding codes. They are "goroot" events, as a usable GOROOT is, so that
// one query finds every GOROOT verdict.
var (
	Missing = finding.Declare(finding.Decl{Name: "GOROOT_MISSING", Lowest: finding.Warning, Highest: finding.Error,
		ID: "d743b29773554e5b852d878366c16ea0", Event: "goroot", MachineWide: true,
		Summary: "no GOROOT and no go command in PATH, or the directory does not exist"})
	Invalid = finding.Declare(finding.Decl{Name: "GOROOT_INVALID", Lowest: finding.Warning, Highest: finding.Error,
		ID: "f72186e9832b4f3aa7b53cf1f6ee99d8", Event: "goroot", MachineWide: true,
		Summary: "not a Go root, built for another machine, go version fails, or older than expect_version"})
)

// Result is the verdict on one GOROOT.
type Result struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	OK      bool   `json:"ok"`
	// Code is Missing or Invalid when not OK. The severity is the
	// caller's: an error when GOROOT is required, else a warning.
	Code finding.Code `json:"code,omitzero"`
	// Reason says which check failed, in one line naming the path.
	Reason string `json:"reason,omitempty"`
	Fix    string `json:"fix,omitempty"`
	// Source says where the path came from.
	Source string `json:"source,omitempty"`
}

// Request says which GOROOT to check.
type Request struct {
	// Path is an explicit GOROOT (flag or config); it wins over the others.
	Path string
	// EnvGOROOT is $GOROOT of the environment being checked.
	EnvGOROOT string
	// GoEnvGOROOT is what `go env GOROOT` said, if a go command was found.
	GoEnvGOROOT string
	// ExpectVersion is the oldest acceptable version ("go1.22"), or "".
	ExpectVersion string
}

// Host is the platform a usable toolchain must be built for.
var Host = runtime.GOOS + "_" + runtime.GOARCH

// Check runs every check in order and stops at the first failure.
func Check(ctx context.Context, req Request) Result {
	r := Result{}
	switch {
	case req.Path != "":
		r.Path, r.Source = req.Path, "configured"
	case req.EnvGOROOT != "":
		r.Path, r.Source = req.EnvGOROOT, "$GOROOT"
	case req.GoEnvGOROOT != "":
		r.Path, r.Source = req.GoEnvGOROOT, "go env"
	default:
		return fail(r, Missing, "GOROOT is not set and no go command is in PATH", fixMissing(""))
	}
	fi, err := os.Stat(r.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail(r, Missing, fmt.Sprintf("GOROOT %s does not exist", r.Path), fixMissing(r.Path))
	case err != nil:
		return fail(r, Invalid, fmt.Sprintf("GOROOT %s cannot be read: %v", r.Path, errors.Unwrap(err)), "make "+r.Path+" readable by this user")
	case !fi.IsDir():
		return fail(r, Invalid, fmt.Sprintf("GOROOT %s is not a directory", r.Path), fixMissing(r.Path))
	}
	if res, bad := checkLayout(r); bad {
		return res
	}
	return checkVersion(ctx, r, req.ExpectVersion)
}

func fail(r Result, code finding.Code, reason, fix string) Result {
	r.OK, r.Code, r.Reason, r.Fix = false, code, reason, fix
	return r
}

// checkLayout looks for bin/go, src/runtime and pkg/tool/<os>_<arch>, and
// names the platform of a toolchain built for another one.
func checkLayout(r Result) (Result, bool) {
	gobin := filepath.Join(r.Path, "bin", "go")
	for _, need := range []struct{ rel, what string }{
		{"bin/go", "the go command"}, {"src/runtime", "the runtime sources"},
	} {
		if _, err := os.Stat(filepath.Join(r.Path, need.rel)); err != nil {
			return fail(r, Invalid, fmt.Sprintf("GOROOT %s is not a Go installation: %s (%s) is missing", r.Path, need.rel, need.what),
				"point GOROOT at a complete Go installation, or reinstall Go in "+r.Path), true
		}
	}
	if arch, ok := elfPlatform(gobin); ok && arch != runtime.GOARCH {
		return fail(r, Invalid, fmt.Sprintf("GOROOT %s holds a go command for %s, but this machine is %s", r.Path, arch, runtime.GOARCH),
			"install the "+Host+" build of Go"), true
	}
	if _, err := os.Stat(filepath.Join(r.Path, "pkg", "tool", Host)); err != nil {
		found, _ := filepath.Glob(filepath.Join(r.Path, "pkg", "tool", "*_*"))
		detail := "pkg/tool/" + Host + " is missing"
		if len(found) > 0 {
			detail += "; it has tools for " + filepath.Base(found[0])
		}
		return fail(r, Invalid, fmt.Sprintf("GOROOT %s has no tools for %s: %s", r.Path, Host, detail),
			"install the "+Host+" build of Go"), true
	}
	return r, false
}

var elfArch = map[elf.Machine]string{
	elf.EM_X86_64: "amd64", elf.EM_386: "386", elf.EM_AARCH64: "arm64", elf.EM_ARM: "arm",
	elf.EM_RISCV: "riscv64", elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x", elf.EM_LOONGARCH: "loong64",
}

// elfPlatform reads the architecture of an ELF binary from its header.
func elfPlatform(path string) (string, bool) {
	f, err := elf.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	a, ok := elfArch[f.Machine]
	if a == "ppc64le" && f.ByteOrder.String() == "BigEndian" {
		a = "ppc64"
	}
	return a, ok
}

// checkVersion runs `go version` and compares it with the expected version.
func checkVersion(ctx context.Context, r Result, expect string) Result {
	ctx, cancel := context.WithTimeout(ctx, 800*time.Millisecond)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(r.Path, "bin", "go"), "version")
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "GOROOT="+r.Path, "GOTOOLCHAIN=local")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return fail(r, Invalid, fmt.Sprintf("GOROOT %s: `go version` failed: %s", r.Path, firstLine(msg)),
			"reinstall Go in "+r.Path+", or point GOROOT at a working installation")
	}
	// "go version go1.22.3 linux/amd64"
	f := strings.Fields(string(out))
	if len(f) < 4 {
		return fail(r, Invalid, fmt.Sprintf("GOROOT %s: unexpected `go version` output %q", r.Path, strings.TrimSpace(string(out))),
			"reinstall Go in "+r.Path)
	}
	r.Version = f[2]
	if platform := strings.Replace(f[3], "/", "_", 1); platform != Host {
		return fail(r, Invalid, fmt.Sprintf("GOROOT %s is Go for %s, but this machine is %s", r.Path, f[3], strings.Replace(Host, "_", "/", 1)),
			"install the "+Host+" build of Go")
	}
	if expect != "" {
		want, ok1 := config.ParseGoVersion(expect)
		have, ok2 := config.ParseGoVersion(r.Version)
		if ok1 && ok2 && have.Less(want) {
			return fail(r, Invalid, fmt.Sprintf("GOROOT %s is %s, older than the expected %s", r.Path, r.Version, expect),
				"install "+expect+" or newer, or lower goroot.expect_version")
		}
	}
	r.OK = true
	return r
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Common install locations, named in the fix when GOROOT is missing.
var candidates = []string{"/usr/local/go", "/usr/lib/go"}

func fixMissing(path string) string {
	for _, c := range candidates {
		if c != path {
			if _, err := os.Stat(filepath.Join(c, "bin", "go")); err == nil {
				return fmt.Sprintf("set GOROOT=%s (Environment=GOROOT=%s in the unit, or [goroot] path = %q in gomaint.toml)", c, c, c)
			}
		}
	}
	if path != "" {
		return "install Go in " + path + ", or set GOROOT to an existing Go installation"
	}
	return "install Go, or set GOROOT to a Go installation (Environment=GOROOT=... in the unit)"
}

// Severity is how grave a failed check is: an error where the
// configuration requires a usable Go ([goroot] required, the default),
// else a warning. Every report of the verdict (audit, status, metrics)
// asks here.
func (r Result) Severity(required bool) finding.Severity {
	if required {
		return finding.Error
	}
	return finding.Warning
}
