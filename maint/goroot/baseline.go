package goroot

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
)

// A recorded baseline is a text file, one entry a line, every name and
// target quoted with strconv.Quote so that any byte round-trips:
//
//	gomaint goroot baseline 1
//	goroot "/usr/local/go"
//	version "go1.26.8\ntime 2026-08-28T16:20:06Z\n"
//	f 0644 <sha256> "bin/go"
//	l 0777 "../target" "some/link"
//	d 0755 "src"
const baselineHeader = "gomaint goroot baseline 1"

// BaselineSubdir is the directory of recorded baselines in the state
// directory.
const BaselineSubdir = "goroot"

// PackagedError: a package manager already holds GOROOT's baseline, so
// gomaint records none of its own (one it could be told to trust instead).
type PackagedError struct {
	Path     string
	Packages []string
}

func (e *PackagedError) Error() string {
	return fmt.Sprintf("GOROOT %s was installed by the Debian package %s, whose md5sums dpkg keeps: "+
		"--verify checks against them, and gomaint records no baseline of its own", e.Path, strings.Join(e.Packages, ", "))
}

// baselineName is the file of GOROOT path's baseline: readable, and
// unambiguous through a hash of the whole path (/usr/local/go and
// /usr/local-go read alike).
func baselineName(path string) string {
	sum := sha256.Sum256([]byte(path))
	readable := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' {
			return r
		}
		return '-'
	}, strings.Trim(path, "/"))
	if len(readable) > 100 {
		readable = readable[:100]
	}
	return readable + "-" + hex.EncodeToString(sum[:6]) + ".baseline"
}

// Record writes the baseline of the GOROOT at path into stateDir's
// BaselineSubdir, replacing any earlier one, and returns its file. It
// refuses a GOROOT a Debian package installed (*PackagedError).
func Record(ctx context.Context, path, stateDir string) (string, error) {
	if pkgs, err := dpkgOwners(path); err != nil {
		return "", err
	} else if len(pkgs) > 0 {
		return "", &PackagedError{path, pkgs}
	}
	version, err := readVersion(path)
	if err != nil {
		return "", err
	}
	nodes, err := hashWalk(ctx, path, newSHA256)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\ngoroot %s\nversion %s\nrecorded %s\n", baselineHeader,
		strconv.Quote(path), strconv.Quote(version), time.Now().UTC().Format(time.RFC3339))
	for _, n := range nodes {
		if n.err != nil {
			return "", fmt.Errorf("record GOROOT %s: %s: %w", path, n.rel, n.err)
		}
		switch n.kind {
		case kindFile:
			fmt.Fprintf(&b, "f %04o %s %s\n", n.mode, n.sum, strconv.Quote(n.rel))
		case kindLink:
			fmt.Fprintf(&b, "l %04o %s %s\n", n.mode, strconv.Quote(n.link), strconv.Quote(n.rel))
		case kindDir:
			fmt.Fprintf(&b, "d %04o %s\n", n.mode, strconv.Quote(n.rel))
		default:
			return "", fmt.Errorf("record GOROOT %s: %s is %s, which no Go installation has", path, n.rel, kindWord(n.kind))
		}
	}
	dir := filepath.Join(stateDir, BaselineSubdir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("record GOROOT %s: %w", path, err)
	}
	if err := trustedDir(dir); err != nil {
		return "", err
	}
	name := baselineName(path)
	if err := safefs.WriteAtomic(dir, name, b.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("record GOROOT %s: %s: %w", path, dir, err)
	}
	return filepath.Join(dir, name), nil
}

// readVersion reads GOROOT's VERSION file, which a go.dev tarball has and
// a baseline is tied to, without following a link.
func readVersion(path string) (string, error) {
	dfd, err := scan.OpenDir(path)
	if err != nil {
		return "", fmt.Errorf("GOROOT %s: %w", path, err)
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, "VERSION", unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("GOROOT %s: VERSION, which a baseline is tied to: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), "VERSION")
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("GOROOT %s: read VERSION: %w", path, err)
	}
	return string(data), nil
}

// versionName is the first line of VERSION ("go1.26.8"), for messages.
func versionName(v string) string {
	line, _, _ := strings.Cut(v, "\n")
	return line
}

// trustedDir refuses a directory others could write: whoever can replace
// a baseline decides what verifies. Opened without following a link.
func trustedDir(dir string) error {
	fd, err := scan.OpenDir(dir)
	if err != nil {
		return fmt.Errorf("baseline directory %s: %w", dir, err)
	}
	defer unix.Close(fd)
	return trusted(fd, dir)
}

// trusted: fd is owned by root or by this user, and writable by neither
// group nor others.
func trusted(fd int, name string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("refused: baseline %s is owned by uid %d, neither root nor this user", name, st.Uid)
	}
	if st.Mode&0o022 != 0 {
		return fmt.Errorf("refused: baseline %s is writable by group or others (mode %04o); fix: chmod go-w %s", name, st.Mode&0o7777, name)
	}
	return nil
}

// baseline is a recorded baseline, read back.
type baseline struct {
	file, goroot, version string
	nodes                 map[string]node
}

// loadBaseline reads the baseline of path from the first of stateDirs
// that has one; nil when none does.
func loadBaseline(path string, stateDirs []string) (*baseline, error) {
	name := baselineName(path)
	for _, sd := range stateDirs {
		dir := filepath.Join(sd, BaselineSubdir)
		data, err := readTrusted(dir, name)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return nil, err
		}
		b, err := parseBaseline(data)
		if err != nil {
			return nil, fmt.Errorf("baseline %s: %w", filepath.Join(dir, name), err)
		}
		if b.goroot != path {
			continue // another GOROOT whose name hashed alike
		}
		b.file = filepath.Join(dir, name)
		return b, nil
	}
	return nil, nil
}

// readTrusted reads dir/name when both pass trusted; ENOENT when either
// is missing.
func readTrusted(dir, name string) ([]byte, error) {
	dfd, err := scan.OpenDir(dir)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, err
		}
		return nil, fmt.Errorf("baseline directory %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	if err := trusted(dfd, dir); err != nil {
		return nil, err
	}
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	file := filepath.Join(dir, name)
	if err := trusted(fd, file); err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("baseline %s is not a regular file", file)
	}
	return io.ReadAll(f)
}

func parseBaseline(data []byte) (*baseline, error) {
	b := &baseline{nodes: map[string]node{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for i := 1; sc.Scan(); i++ {
		if err := b.parseLine(i, sc.Text()); err != nil {
			return nil, fmt.Errorf("line %d: %w", i, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if b.goroot == "" {
		return nil, fmt.Errorf("no goroot line")
	}
	return b, nil
}

func (b *baseline) parseLine(i int, line string) error {
	if i == 1 {
		if line != baselineHeader {
			return fmt.Errorf("not a gomaint GOROOT baseline (%q)", line)
		}
		return nil
	}
	key, rest, _ := strings.Cut(line, " ")
	var err error
	switch key {
	case "goroot":
		b.goroot, _, err = unquote(rest)
	case "version":
		b.version, _, err = unquote(rest)
	case "recorded":
	case "f", "l", "d":
		var n node
		n, err = parseNode(key[0], rest)
		b.nodes[n.rel] = n
	default:
		err = fmt.Errorf("unknown entry %q", key)
	}
	return err
}

// parseNode reads "MODE SHA256 NAME", "MODE TARGET NAME" or "MODE NAME".
func parseNode(kind byte, rest string) (node, error) {
	n := node{kind: kind}
	mode, rest, _ := strings.Cut(rest, " ")
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil {
		return n, fmt.Errorf("mode %q: %w", mode, err)
	}
	n.mode = uint32(m)
	switch kind {
	case kindFile:
		n.sum, rest, _ = strings.Cut(rest, " ")
	case kindLink:
		if n.link, rest, err = unquote(rest); err != nil {
			return n, err
		}
		rest = strings.TrimPrefix(rest, " ")
	}
	n.rel, rest, err = unquote(rest)
	if err == nil && rest != "" {
		err = fmt.Errorf("trailing %q", rest)
	}
	return n, err
}

// unquote reads one strconv.Quote'd string at the start of s.
func unquote(s string) (string, string, error) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", fmt.Errorf("%q is not a quoted string", s)
	}
	u, err := strconv.Unquote(q)
	return u, s[len(q):], err
}

// verifyRecorded compares the GOROOT at path with its recorded baseline.
func verifyRecorded(ctx context.Context, path string, stateDirs []string) (Verification, error) {
	b, err := loadBaseline(path, stateDirs)
	if err != nil {
		return Verification{}, err
	}
	if b == nil {
		return Verification{}, &NoBaselineError{path}
	}
	version, err := readVersion(path)
	if err != nil {
		return Verification{}, err
	}
	if version != b.version {
		return Verification{}, &StaleBaselineError{path, versionName(b.version), versionName(version)}
	}
	nodes, err := hashWalk(ctx, path, newSHA256)
	if err != nil {
		return Verification{}, err
	}
	v := Verification{Path: path, Baseline: BaselineRecords, File: b.file, Entries: len(nodes)}
	for _, n := range nodes {
		was, ok := b.nodes[n.rel]
		delete(b.nodes, n.rel)
		if what := differs(n, was, ok); what == "added" {
			v.Added = append(v.Added, shown(n.rel, n.kind))
		} else if what != "" {
			v.Changed = append(v.Changed, Change{n.rel, what})
		}
	}
	for rel, n := range b.nodes {
		v.Removed = append(v.Removed, shown(rel, n.kind))
	}
	v.finish("reinstall Go in " + path + " from a go.dev tarball whose sha256 you checked against go.dev/dl; " +
		"if the change is yours, record anew: " + recordCommand(path))
	return v, nil
}

// differs says how the node now differs from the one recorded, "added"
// when none was, "" when it is the same.
func differs(n, was node, recorded bool) string {
	switch {
	case n.err != nil:
		return "cannot be examined: " + n.err.Error()
	case !recorded:
		return "added"
	case n.kind != was.kind:
		return "now " + kindWord(n.kind) + ", was " + kindWord(was.kind)
	case n.kind == kindFile && n.sum != was.sum:
		return "contents differ"
	case n.kind == kindLink && n.link != was.link:
		return "a link to " + n.link + ", was to " + was.link
	case n.mode != was.mode && n.kind != kindLink:
		return fmt.Sprintf("mode %04o, was %04o", n.mode, was.mode)
	}
	return ""
}

// BaselineDirs are the state directories a recorded baseline is looked
// for in, the one Record writes first. Root keeps GOROOT baselines in the
// system's, whatever the scope: a GOROOT is the machine's, and a user
// verifying it can read root's baseline (0644 in a 0755 directory) and
// trust it more than one of their own.
func BaselineDirs(getenv func(string) string) []string {
	system := paths.StateDir(true, getenv)
	if os.Geteuid() == 0 {
		return []string{system}
	}
	return []string{paths.StateDir(false, getenv), system}
}
