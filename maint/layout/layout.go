// Package layout knows what Go itself writes into its caches, and nothing
// else may be treated as a cache entry (docs/design.md, safety 4).
//
// Build cache (GOCACHE, see cmd/go/internal/cache):
//
//	README, trim.txt, testexpire.txt, fuzz/   kept by `go clean -cache`
//	00 .. ff/                                  256 shards
//	  <64 hex>-a                               action entry (175 bytes)
//	  <64 hex>-d                               output file, or since Go 1.24 a
//	                                           directory holding one executable
//
// Module cache (GOMODCACHE, see cmd/go/internal/modfetch):
//
//	cache/lock
//	cache/download/<escaped path>/@v/list, <v>.{info,mod,zip,ziphash,lock,partial}
//	cache/download/sumdb/...                   checksum database tiles
//	cache/vcs/<hash>/, <hash>.lock, <hash>.info
//	<escaped path>@<version>/...               extracted sources (read-only)
//	golang.org/toolchain@v0.0.1-goX.Y.Z.OS-ARCH/   GOTOOLCHAIN downloads
//
// In flight, go also writes "<file>.<random>.tmp" in @v and extracts into
// "<path>@<version>.tmp-<random>" before renaming; those are expected while
// young and stale when left behind.
package layout

import (
	"strings"

	"github.com/gomaint/gomaint/maint/scan"
)

// Classes of directories, passed down to their entries.
const (
	Root scan.Class = iota
	// build cache
	Shard
	ExecDir // a "-d" directory holding a cached executable
	Fuzz
	// module cache
	ModPath     // a directory of module path elements, outside cache/
	ModVersion  // an extracted module version
	Toolchain   // an extracted GOTOOLCHAIN download
	ModCache    // cache/
	Download    // cache/download and its module path elements
	AtV         // cache/download/<path>/@v
	SumDB       // cache/download/sumdb and below
	VCS         // cache/vcs
	VCSRepo     // cache/vcs/<hash> and below
	Unexpected  // inside something Go does not write
	InFlightTmp // inside a temporary extraction directory
)

// Kind of an entry, as far as Go's layout is concerned.
type Kind int

const (
	Other        Kind = iota // part of the layout, not counted separately
	Surprise                 // not part of the layout: a finding, never deleted
	Transient                // a temporary file or directory of a running go command
	ActionEntry              // build: <hex>-a
	OutputEntry              // build: <hex>-d file
	ExecEntry                // build: <hex>-d directory
	VersionDir               // mod: extracted module version
	ToolchainDir             // mod: extracted toolchain
	ModFile                  // mod: @v/<version>.mod (one per downloaded version)
	VCSDir                   // mod: cache/vcs/<hash>
)

// Entry classifies one entry of dir and returns the class its own entries
// get if it is a directory.
func Entry(dir *scan.Dir, name []byte, isDir bool, build bool) (Kind, scan.Class) {
	if build {
		return buildEntry(dir.Class, name, isDir)
	}
	return modEntry(dir, name, isDir)
}

func buildEntry(class scan.Class, name []byte, isDir bool) (Kind, scan.Class) {
	switch class {
	case Root:
		switch n := string(name); {
		case isDir && len(n) == 2 && isHex(name):
			return Other, Shard
		case isDir && n == "fuzz":
			return Other, Fuzz
		case !isDir && (n == "README" || n == "trim.txt" || n == "testexpire.txt"):
			return Other, 0
		}
	case Shard:
		if len(name) == 66 && isHex(name[:64]) && name[64] == '-' {
			switch {
			case name[65] == 'a' && !isDir:
				return ActionEntry, 0
			case name[65] == 'd' && !isDir:
				return OutputEntry, 0
			case name[65] == 'd' && isDir:
				return ExecEntry, ExecDir
			}
		}
	case ExecDir:
		if !isDir {
			return Other, 0
		}
	case Fuzz:
		return Other, Fuzz
	case Unexpected:
		return Other, Unexpected
	}
	return Surprise, Unexpected
}

func modEntry(dir *scan.Dir, name []byte, isDir bool) (Kind, scan.Class) {
	switch dir.Class {
	case ModVersion, Toolchain, SumDB, VCSRepo, InFlightTmp, Unexpected:
		return Other, dir.Class // the bulk of a module cache: decided without a string
	}
	n := string(name)
	switch dir.Class {
	case Root, ModPath:
		if !isDir {
			break
		}
		if dir.Class == Root && n == "cache" {
			return Other, ModCache
		}
		if strings.Contains(n, ".tmp-") && strings.Contains(n, "@") {
			return Transient, InFlightTmp
		}
		if strings.Contains(n, "@") {
			if dir.Path == "golang.org" && strings.HasPrefix(n, "toolchain@") {
				return ToolchainDir, Toolchain
			}
			return VersionDir, ModVersion
		}
		return Other, ModPath
	case ModCache:
		switch {
		case isDir && n == "download":
			return Other, Download
		case isDir && n == "vcs":
			return Other, VCS
		case !isDir && n == "lock":
			return Other, 0
		}
	case Download:
		switch {
		case isDir && n == "@v":
			return Other, AtV
		case isDir && n == "sumdb" && dir.Path == "cache/download":
			return Other, SumDB
		case isDir:
			return Other, Download
		}
	case AtV:
		if isDir {
			break
		}
		if strings.HasSuffix(n, ".tmp") {
			return Transient, 0
		}
		if n == "list" || n == "list.lock" {
			return Other, 0
		}
		if _, ext, ok := VersionFile(n); ok {
			if ext == ".mod" {
				return ModFile, 0
			}
			return Other, 0
		}
	case VCS:
		if isDir {
			return VCSDir, VCSRepo
		}
		return Other, 0 // <hash>.lock, <hash>.info
	}
	return Surprise, Unexpected
}

// MustBeWritable reports whether the go command needs to create or rewrite
// entries in a directory of this class. Extracted sources are read-only by
// design; unexpected trees are not Go's.
func MustBeWritable(c scan.Class) bool {
	switch c {
	case Root, Shard, Fuzz, ModPath, ModCache, Download, AtV, SumDB, VCS:
		return true
	}
	return false
}

// RewrittenFile reports whether go opens an existing file of this class for
// writing (trim.txt, lock files, @v/list), so that it must stay writable.
func RewrittenFile(c scan.Class, name []byte) bool {
	if c != Root && c != ModCache && c != AtV && c != VCS {
		return false // every shard entry: no string made
	}
	n := string(name)
	switch c {
	case Root:
		return n == "trim.txt" || n == "testexpire.txt"
	case ModCache:
		return n == "lock"
	case AtV:
		return n == "list" || strings.HasSuffix(n, ".lock")
	case VCS:
		return strings.HasSuffix(n, ".lock")
	}
	return false
}

// ToolchainName returns the toolchain an entry belongs to, given the path of
// its directory relative to the module cache root: "golang.org/toolchain@v…"
// for extracted files, or the version of a download in its @v directory.
func ToolchainName(dirPath string, name []byte, class scan.Class) (string, bool) {
	switch class {
	case Toolchain:
		rest, ok := strings.CutPrefix(dirPath, "golang.org/")
		if !ok {
			return "", false
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i]
		}
		return rest, true
	case AtV:
		if dirPath != "cache/download/golang.org/toolchain/@v" {
			return "", false
		}
		if v, _, ok := VersionFile(string(name)); ok {
			return "toolchain@" + v, true
		}
	}
	return "", false
}

// versionExts are the files go keeps per version in an @v directory.
var versionExts = []string{".info", ".mod", ".zip", ".ziphash", ".lock", ".partial"}

// VersionFile splits a file name of an @v directory into the version it
// belongs to and its extension: "v1.6.0.ziphash" gives "v1.6.0" and
// ".ziphash". The one list of these names, so that the classifier, the
// toolchain totals and a trim agree on what a version's files are; list,
// list.lock and in-flight ".tmp" files belong to no version.
func VersionFile(name string) (version, ext string, ok bool) {
	if name == "list" || name == "list.lock" {
		return "", "", false
	}
	for _, ext := range versionExts {
		if v, ok := strings.CutSuffix(name, ext); ok && v != "" {
			return v, ext, true
		}
	}
	return "", "", false
}

// VersionOfDownload names the module version a download file belongs to:
// "cache/download/github.com/google/uuid/@v" and "v1.6.0.partial" give
// "github.com/google/uuid@v1.6.0", the path of its extracted directory.
func VersionOfDownload(atV, file string) string {
	mod := strings.TrimSuffix(strings.TrimPrefix(atV, "cache/download/"), "/@v")
	ver, _, _ := VersionFile(file)
	return mod + "@" + ver
}

func isHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// hexPairs holds the names of the build cache's 256 shards, 00 to ff,
// two bytes each.
const hexPairs = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" +
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" +
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f" +
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" +
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" +
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf" +
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

// ShardName is the name of build cache shard i (0 to 255), as go gives
// it: hex, lower case.
func ShardName(i int) string { return hexPairs[2*i : 2*i+2] }
