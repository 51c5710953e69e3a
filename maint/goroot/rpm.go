package goroot

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"sort"
	"strings"
)

// BaselineRPM: the rpm database's digests, modes and owners, as `rpm -V`
// checks them.
const BaselineRPM = "rpm"

// rpmOwners returns the rpm packages that own dir itself; none when rpm is
// not installed or its database does not know dir (as on Debian, where
// rpm is a tool and dpkg the package manager).
func rpmOwners(ctx context.Context, dir string) ([]string, error) {
	bin, err := exec.LookPath("rpm")
	if err != nil {
		return nil, nil
	}
	out, err := rpmRun(ctx, bin, "-q", "-f", "--queryformat", "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n", dir)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil, nil // "file ... is not owned by any package"
	}
	if err != nil {
		return nil, err
	}
	var pkgs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" {
			pkgs = append(pkgs, line)
		}
	}
	sort.Strings(pkgs)
	return pkgs, nil
}

// rpmRun runs rpm in the C locale, so that its messages are the ones parsed.
func rpmRun(ctx context.Context, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && stderr.Len() > 0 {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			return out, fmt.Errorf("rpm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
	}
	return out, err
}

// rpmFlags names the attributes of `rpm -V`'s flags column that matter for
// a Go root; T alone (a changed mtime) is not a changed file.
var rpmFlags = []struct {
	c    byte
	what string
}{{'S', "size"}, {'M', "mode"}, {'5', "contents"}, {'D', "device"}, {'L', "link target"}, {'U', "owner"}, {'G', "group"}, {'P', "capabilities"}}

// verifyRPM checks GOROOT with `rpm -V` of the packages that own it, and
// walks it, without following links, for what they did not install.
func verifyRPM(ctx context.Context, goroot string, pkgs []string) (Verification, error) {
	v := Verification{Path: goroot, Baseline: BaselineRPM, Packages: pkgs}
	bin, err := exec.LookPath("rpm")
	if err != nil {
		return v, err
	}
	listed, err := rpmRun(ctx, bin, append([]string{"-q", "-l"}, pkgs...)...)
	if err != nil {
		return v, err
	}
	owned := map[string]bool{}
	for _, p := range strings.Split(string(listed), "\n") {
		owned[p] = true
	}
	// rpm -V exits 1 when anything differs; its output says what.
	out, err := rpmRun(ctx, bin, append([]string{"-V", "--nodeps", "--noscripts"}, pkgs...)...)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return v, err
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		flags, file, ok := parseRPMVerify(sc.Text())
		if !ok || !under(file, goroot) {
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(file, goroot), "/")
		if flags == "missing" {
			v.Removed = append(v.Removed, name)
			continue
		}
		var what []string
		for _, f := range rpmFlags {
			if strings.IndexByte(flags, f.c) >= 0 {
				what = append(what, f.what)
			}
		}
		if len(what) > 0 {
			v.Changed = append(v.Changed, Change{name, strings.Join(what, ", ") + " differ from the rpm database"})
		}
	}
	nodes, err := hashWalk(ctx, goroot, nil)
	if err != nil {
		return v, err
	}
	v.Entries = len(nodes)
	for _, n := range nodes {
		if n.err == nil && !owned[path.Join(goroot, n.rel)] {
			v.Added = append(v.Added, shown(n.rel, n.kind))
		}
	}
	v.finish("reinstall the packages: dnf reinstall " + strings.Join(pkgs, " ") + " (or rpm -U --replacepkgs of the same packages)")
	return v, nil
}

// parseRPMVerify reads one line of `rpm -V`: nine flag characters (or
// "missing"), a file-type marker (c, d, g, l, r, or a space), the path.
func parseRPMVerify(line string) (flags, file string, ok bool) {
	if rest, found := strings.CutPrefix(line, "missing"); found {
		i := strings.Index(rest, "/")
		if i < 0 {
			return "", "", false
		}
		return "missing", rest[i:], true
	}
	if len(line) < 13 || line[9] != ' ' {
		return "", "", false
	}
	i := strings.Index(line[10:], "/")
	if i < 0 {
		return "", "", false
	}
	return line[:9], line[10+i:], true
}
