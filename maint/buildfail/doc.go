// Package buildfail names why a go command failed, from what it printed.
//
// A Scanner sits between the command and the user's stderr. Every Write
// reaches the destination first, whole and at once: the scanner never
// holds output back and never buffers it for the destination. What it
// keeps is a bounded copy for reading: the current line (at most
// MaxLine bytes of it; the rest of a longer line is skipped) and at most
// one failure per reason, so a build that prints gigabytes, or binary
// noise with no newline, costs a few KiB.
//
// Each complete line is matched against the failures go prints (learned
// from cmd/go's source and checked against real go builds in the tests):
// the caches not writable, a full file system, GOROOT not a Go root, a
// module that cannot be downloaded, a checksum mismatch, cache entries
// removed while the build used them. A path in a line counts only when it
// is under the run's GOCACHE, GOMODCACHE (or, for a full disk, go's
// temporary directory): a test that prints "permission denied" about its
// own files is not a cache problem. Matching is string work on the copy,
// after the bytes were passed on; it makes no system call.
//
// go swallows the error of writing its package index into a build cache
// it cannot write (or that is full) and reports instead that a standard
// package "is not in std" or "cannot find package". Failures tells these
// apart once the command has ended, by looking (read-only: access(2) and
// statfs(2)) at GOROOT and GOCACHE as the calling user.
//
// Text in a Failure (paths, go's line) comes from the build: escape it
// with maint/safetext before printing.
package buildfail
