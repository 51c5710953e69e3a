package buildfail

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// match returns the failure line shows, if any. The matchers run in this
// order, and the first one wins: a proxy URL under GOMODCACHE that does
// not exist is a download failure, not a vanished entry.
func match(line string, env *Env) (Failure, bool) {
	for _, m := range []func(string, *Env) (Failure, bool){checksum, goroot, download, permission, diskFull, vanished} {
		if f, ok := m(line, env); ok {
			f.Line = line
			return f, true
		}
	}
	return Failure{}, false
}

// checksum: modfetch's "verifying MOD@V: checksum mismatch" (go.sum) and
// "verifying MOD@V/go.mod: checksum mismatch" (go.sum or the checksum
// database), each followed by SECURITY ERROR.
func checksum(line string, _ *Env) (Failure, bool) {
	i := strings.Index(line, ": checksum mismatch")
	j := strings.Index(line, "verifying ")
	if i < 0 || j < 0 || j > i {
		return Failure{}, false
	}
	mod, _, _ := strings.Cut(line[j+len("verifying "):], ":")
	return Failure{Reason: ModuleChecksum,
		Cause: fmt.Sprintf("The download of %s does not match the checksum go.sum or the checksum database records for it.", mod),
		Fix:   "Find out which changed before building again: `git diff go.sum` shows an edit of go.sum, and `gomaint verify` checks the module cache against the checksum database."}, true
}

// versionMismatch is the compiler's or linker's "version X does not match
// go tool version Y" (cmd/compile/internal/base/flag.go).
var versionMismatch = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(compile|link|asm): version "([^"]*)" does not match go tool version "([^"]*)"`)
})

// goroot: main.go's "go: cannot find GOROOT directory: X", base/tool.go's
// `go: no such tool "compile"`, and a compiler of another Go version.
func goroot(line string, env *Env) (Failure, bool) {
	fix := "`gomaint check goroot` tells why; point GOROOT at a Go installation, or unset it to use the go command's own."
	if rest, ok := strings.CutPrefix(line, "go: cannot find GOROOT directory: "); ok {
		cause := fmt.Sprintf("GOROOT names %s, which is not a directory, so go cannot start.", rest)
		if strings.HasPrefix(rest, "'go' binary is trimmed") {
			cause = "The go command was built without its GOROOT and GOROOT is not set."
		}
		return Failure{Reason: GOROOT, Cause: cause, Fix: fix}, true
	}
	if tool, ok := strings.CutPrefix(line, "go: no such tool "); ok {
		return Failure{Reason: GOROOT, Fix: fix,
			Cause: fmt.Sprintf("GOROOT %s has no %s tool in pkg/tool, so it is not a complete Go installation.", orUnknown(env.GOROOT), tool)}, true
	}
	if !strings.Contains(line, "does not match go tool version") {
		return Failure{}, false
	}
	if m := versionMismatch().FindStringSubmatch(line); m != nil {
		return Failure{Reason: GOROOT, Fix: fix,
			Cause: fmt.Sprintf("The %s in GOROOT %s is %s, but the go command is %s.", m[1], orUnknown(env.GOROOT), m[2], m[3])}, true
	}
	return Failure{}, false
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// fetchError is modfetch's error for a module the proxy (or the checksum
// database) did not give: "MOD@V: reading URL: ..." (proxy.go) or
// `MOD@V: Get "URL": dial tcp ...` (the HTTP client's).
var fetchError = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(\S+@[^\s:]+): (reading |Get ")(https?|file)://`) })

// vcsError is the direct (GOPROXY=direct, GOPRIVATE) path's: "reading
// MOD/go.mod at revision V: git ls-remote ...", `unrecognized import
// path "X"`.
var vcsError = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`reading \S+ at revision \S+: |: git ls-remote |unrecognized import path "`)
})

// download: a module go needed and could not get. The regular
// expressions run only on lines with their literal part: most lines
// have none.
func download(line string, _ *Env) (Failure, bool) {
	fix := "Check GOPROXY (`go env GOPROXY`) and the network, or fill the module cache where the proxy is reachable with `go mod download`."
	switch {
	case strings.Contains(line, "module lookup disabled by GOPROXY=off"):
		return Failure{Reason: ModuleDownload,
			Cause: "A module missing from the module cache was needed, and GOPROXY=off forbids downloading it.",
			Fix:   "Run `go mod download` where the proxy is reachable, or set GOPROXY for this build."}, true
	case strings.Contains(line, "://") && fetchError().MatchString(line):
		mod := fetchError().FindStringSubmatch(line)[1]
		return Failure{Reason: ModuleDownload, Fix: fix,
			Cause: fmt.Sprintf("go could not download %s from the module proxy or the checksum database.", mod)}, true
	case (strings.Contains(line, " at revision ") || strings.Contains(line, "git ls-remote") || strings.Contains(line, "unrecognized import path")) &&
		vcsError().MatchString(line):
		return Failure{Reason: ModuleDownload, Fix: fix,
			Cause: "go could not fetch a module from its version control server (GOPROXY=direct or a GOPRIVATE module)."}, true
	}
	return Failure{}, false
}

// permission: EACCES or EPERM on a path in a cache, for example
// cache/default.go's "failed to initialize build cache at X: mkdir
// X/00: permission denied", modfetch's "mkdir GOMODCACHE/cache/...:
// permission denied".
func permission(line string, env *Env) (Failure, bool) {
	if !strings.Contains(line, "permission denied") && !strings.Contains(line, "operation not permitted") {
		return Failure{}, false
	}
	name, path, root, ok := cacheOf(line, env)
	if !ok {
		return Failure{}, false
	}
	return denied(name, path, root), true
}

func denied(name, path, root string) Failure {
	return Failure{Reason: CachePermission,
		Cause: fmt.Sprintf("go was refused access to %s in %s (%s).", path, name, root),
		Fix:   "`sudo -E gomaint fix` gives what someone else owns in the cache back to you (`gomaint fix --dry-run` lists it)."}
}

// diskFull: ENOSPC or EDQUOT writing into a cache or go's temporary
// directory ("$WORK/b001/..." is go's work directory there).
func diskFull(line string, env *Env) (Failure, bool) {
	if !strings.Contains(line, "no space left on device") && !strings.Contains(line, "disk quota exceeded") {
		return Failure{}, false
	}
	if name, path, root, ok := cacheOf(line, env); ok {
		return full(name, path, root), true
	}
	path, ok := under(line, env.TempDir, env.Dir)
	if !ok {
		i := strings.Index(line, "$WORK/")
		if i < 0 || !boundaryBefore(line, i) {
			return Failure{}, false
		}
		path = pathAt(line, i)
	}
	return Failure{Reason: DiskFull,
		Cause: fmt.Sprintf("The file system of go's temporary directory (%s) is full: go could not write %s.", orUnknown(env.TempDir), path),
		Fix:   "Free space there, or point GOTMPDIR at a directory on a larger file system."}, true
}

func full(name, path, root string) Failure {
	return Failure{Reason: DiskFull,
		Cause: fmt.Sprintf("The file system of %s (%s) is full: go could not write %s.", name, root, path),
		Fix:   "`gomaint clean` trims the caches to their limits, and a max_size in gomaint.toml keeps them there; else free space on that file system."}
}

// vanished: ENOENT for a path in a cache: the compiler's "could not
// import P (open GOCACHE/xx/...-d: no such file or directory)", the
// linker's "cannot open file GOCACHE/xx/...-d: open ...: no such file or
// directory", go's own "open ...". go had just found the entry, so it was
// removed while the build used it.
func vanished(line string, env *Env) (Failure, bool) {
	if !strings.Contains(line, "no such file or directory") {
		return Failure{}, false
	}
	name, path, _, ok := cacheOf(line, env)
	if !ok {
		return Failure{}, false
	}
	return Failure{Reason: CacheVanished,
		Cause: fmt.Sprintf("%s in %s was removed while the build used it.", path, name),
		Fix:   "Run the build again, and find what removes cache entries during builds: `gomaint audit` reports a cache systemd-tmpfiles may age (CACHE_UNPROTECTED), which `gomaint protect` prevents."}, true
}
