package buildfail

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// go keeps an index of each package directory in the build cache
// (cmd/go/internal/modindex). When writing it fails (the cache not
// writable, or full), go drops the error and reports the package missing
// instead: modload's "package P is not in std (GOROOT/src/P)", or
// "FILE:LINE:COL: cannot find package" for an import in a GOROOT or module
// cache file. The same words come from a GOROOT without its library, and
// from an import with a typo.

// indexSuspect says whether line is one of those reports.
func indexSuspect(line string, env *Env) bool {
	if _, ok := notInStd(line); ok {
		return true
	}
	if !strings.HasSuffix(line, ": cannot find package") {
		return false
	}
	_, inRoot := under(line, filepath.Join(env.GOROOT, "src"), env.Dir)
	_, inMod := under(line, env.GOMODCACHE, env.Dir)
	return (env.GOROOT != "" && inRoot) || inMod
}

// notInStd returns the directory of "package P is not in std (DIR)".
func notInStd(line string) (string, bool) {
	i := strings.Index(line, " is not in std (")
	if i < 0 || !strings.HasSuffix(line, ")") {
		return "", false
	}
	return line[i+len(" is not in std (") : len(line)-1], true
}

// hidden tells what a suspect line hid, looking at the file system as it
// is after the build: a GOROOT without its standard library, a GOCACHE
// this process may not write, or one on a full file system. A package
// directory that does not exist in a complete GOROOT is an import that
// names no package, which is not for this package to say.
func hidden(line string, env *Env) (Failure, bool) {
	if env.GOROOT != "" && !isDir(filepath.Join(env.GOROOT, "src", "runtime")) {
		return Failure{Reason: GOROOT, Line: line,
			Cause: fmt.Sprintf("GOROOT names %s, which has no standard library (no src/runtime), so it is not a Go root.", env.GOROOT),
			Fix:   "`gomaint check goroot` tells why; point GOROOT at a Go installation, or unset it to use the go command's own."}, true
	}
	if dir, ok := notInStd(line); ok && !isDir(dir) {
		return Failure{}, false
	}
	if env.GOCACHE == "" {
		return Failure{}, false
	}
	if p, ok := unwritable(env.GOCACHE); ok {
		f := denied("GOCACHE", p, env.GOCACHE)
		f.Line = line
		return f, true
	}
	if isFull(env.GOCACHE) {
		f := full("GOCACHE", env.GOCACHE, env.GOCACHE)
		f.Line = line
		return f, true
	}
	return Failure{}, false
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// unwritable returns the first directory of the cache root and its shards
// that this process may not write into, or the nearest existing parent of
// a root go would have had to make.
func unwritable(root string) (string, bool) {
	dir := root
	for !exists(dir) && filepath.Dir(dir) != dir {
		dir = filepath.Dir(dir)
	}
	if dir != root {
		return dir, !canWrite(dir)
	}
	if !canWrite(root) {
		return root, true
	}
	for i := 0; i < 256; i++ {
		shard := filepath.Join(root, fmt.Sprintf("%02x", i))
		if exists(shard) && !canWrite(shard) {
			return shard, true
		}
	}
	return "", false
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return !errors.Is(err, os.ErrNotExist)
}

func canWrite(dir string) bool { return unix.Access(dir, unix.W_OK|unix.X_OK) == nil }

// fullBelow is how little room counts as full: go writes index entries
// of a few KiB and build outputs of MiBs, and a failed write leaves no
// trace, so the free space after the build is what little it could not
// use.
const fullBelow = 16 << 20

// isFull says whether the file system holding dir has next to no room or
// no inodes left.
func isFull(dir string) bool {
	var st unix.Statfs_t
	for !exists(dir) && filepath.Dir(dir) != dir {
		dir = filepath.Dir(dir)
	}
	if unix.Statfs(dir, &st) != nil {
		return false
	}
	free := uint64(st.Bsize) * st.Bavail
	return free < fullBelow || (st.Files > 0 && st.Ffree == 0)
}
