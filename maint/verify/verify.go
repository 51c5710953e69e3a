// Package verify checks that the module versions of a module cache are
// what go downloaded: each extracted directory's h1: hash (the dirhash go
// records in go.sum) against @v/<version>.ziphash, and the .zip against
// the same hash. It reads only; it never changes a cache.
//
// Invariants (docs/design.md, safety 1): every directory is opened beneath
// the cache root without following a link or leaving its mount, every file
// fd-relative with O_NOFOLLOW and checked to be a regular file; a link or
// special file where go writes none is a finding, never followed. Module
// paths and versions are unescaped with golang.org/x/mod/module only.
// A run remembers what it verified (state.go), so that a scheduled run
// hashes only versions that are new or changed.
package verify

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
)

// Options tune the verification of one cache.
type Options struct {
	Target string // the target's name, for findings
	// Full rehashes every version, whatever the state says.
	Full bool
	// Readers hash versions at once; 0 means one per CPU, at most 4: the
	// work is reading, and a Pi's SD card gains nothing from more.
	Readers int
	// Known is what earlier runs verified (nil: nothing), keyed by
	// version.
	Known map[string]Entry
}

// CacheResult is the verification of one module cache.
type CacheResult struct {
	Target string `json:"target"`
	Path   string `json:"path"`
	// Versions seen; of them, Hashed were read and hashed, Unchanged were
	// verified before and have not changed since, Busy were being
	// downloaded, extracted or removed (a held lock or a .partial).
	Versions    int64  `json:"versions"`
	Hashed      int64  `json:"hashed"`
	Unchanged   int64  `json:"unchanged"`
	Busy        int64  `json:"busy"`
	HashedBytes int64  `json:"hashed_bytes"`
	DurationMS  int64  `json:"duration_ms"`
	Error       string `json:"error,omitempty"`
	// Verified is what the state keeps: every version that verified.
	Verified map[string]Entry `json:"-"`
}

// Cache verifies every module version of the module cache at root.
func Cache(ctx context.Context, root *safefs.Root, opt Options) (*CacheResult, []Finding, error) {
	vs, bad, err := versions(ctx, root)
	if err != nil {
		return nil, nil, err
	}
	hosts, err := sumdbHosts(root)
	if err != nil {
		return nil, nil, err
	}
	res := &CacheResult{Target: opt.Target, Path: root.Path, Versions: int64(len(vs)), Verified: map[string]Entry{}}
	var findings []Finding
	for _, b := range bad {
		findings = append(findings, Finding{Code: moduleUnreadable, Severity: finding.Error, Cache: opt.Target, Path: b.rel,
			Detail: b.err.Error() + "; go makes no such directory", Files: []string{},
			Fix: "inspect it, then remove it: " + rmCommand(root.Path+"/"+b.rel)})
	}
	readers := opt.Readers
	if readers <= 0 {
		readers = min(runtime.GOMAXPROCS(0), 4)
	}
	var mu sync.Mutex // guards findings and res.Verified
	var next atomic.Int64
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scan.LowerIfIdle(ctx) // the daemon's runs: these threads alone
			for i := next.Add(1) - 1; i < int64(len(vs)) && ctx.Err() == nil; i = next.Add(1) - 1 {
				c := checker{root: root, hosts: hosts, v: vs[i], opt: &opt, res: res}
				fs, entry, ok := c.run()
				mu.Lock()
				findings = append(findings, fs...)
				if ok {
					res.Verified[vs[i].key()] = entry
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(findings, func(a, b Finding) int { return strings.Compare(a.Path, b.Path) })
	return res, findings, ctx.Err()
}

// checker verifies one version.
type checker struct {
	root  *safefs.Root
	hosts []string // the checksum databases go kept answers from
	v     *version
	opt   *Options
	res   *CacheResult
	rec   *record // the version's lookup record; nil: none
}

// run returns the version's findings, and its state entry when it
// verified (ok).
func (c *checker) run() (fs []Finding, e Entry, ok bool) {
	v := c.v
	dlfd, err := c.root.OpenDir(v.atV())
	if errors.Is(err, unix.ENOENT) {
		return c.found(moduleUnverifiable, finding.Info, "no download directory "+v.atV()+" holds its .ziphash", nil), e, false
	} else if err != nil {
		return c.found(moduleUnreadable, finding.Error, fmt.Sprintf("%s: %v", v.atV(), err), nil), e, false
	}
	defer unix.Close(dlfd)
	unlock, busy := c.lockShared(dlfd)
	if busy {
		atomic.AddInt64(&c.res.Busy, 1)
		return nil, e, false
	}
	defer unlock()
	e.ZipHash, err = readZiphash(c.root, dlfd, v)
	switch {
	case errors.Is(err, unix.ENOENT):
		return c.found(moduleUnverifiable, finding.Info, "no .ziphash: go did not record the hash of this version (copied in by hand, or by an old go); nothing to check it against", nil), e, false
	case errors.Is(err, errNoHash):
		return c.found(moduleZipCorrupt, finding.Error, err.Error(), nil), e, false
	case err != nil:
		return c.found(moduleUnreadable, finding.Error, err.Error(), nil), e, false
	}
	var t *tree
	if v.hasDir {
		t, err = list(c.root, v.rel())
		if errors.Is(err, unix.ENOENT) {
			v.hasDir = false // removed since the walk
		} else if err != nil {
			return c.found(moduleUnreadable, finding.Error, err.Error(), nil), e, false
		} else if len(t.odd) > 0 {
			return c.found(moduleUnreadable, finding.Error, "not followed: "+strings.Join(t.odd[:min(len(t.odd), maxNamed)], "; "), nil), e, false
		}
	}
	if c.rec, err = findRecord(c.root, c.hosts, v); err != nil {
		return c.found(moduleUnreadable, finding.Error, err.Error(), nil), e, false
	}
	e.Stamp = c.stamp(dlfd, t)
	if prev, seen := c.opt.Known[v.key()]; seen && !c.opt.Full && prev == e {
		atomic.AddInt64(&c.res.Unchanged, 1)
		return nil, e, true
	}
	atomic.AddInt64(&c.res.Hashed, 1)
	return c.hash(dlfd, t, e)
}

func (c *checker) hash(dlfd int, t *tree, e Entry) ([]Finding, Entry, bool) {
	v := c.v
	fs, want, from := c.checkRecord(dlfd, e.ZipHash)
	z, zf, err := openZip(c.root, dlfd, v)
	zipOK := false
	switch {
	case errors.Is(err, unix.ENOENT): // extracted only: go keeps the zip unless told otherwise
	case err != nil:
		fs = append(fs, c.found(moduleZipCorrupt, finding.Error, fmt.Sprintf("%s.zip: %v", v.escVersion, err), nil)...)
	default:
		defer zf.Close()
		h, n, err := hashZip(z)
		atomic.AddInt64(&c.res.HashedBytes, n)
		switch {
		case err != nil:
			fs = append(fs, c.found(moduleZipCorrupt, finding.Error, fmt.Sprintf("%s.zip: %v", v.escVersion, err), nil)...)
		case h != want:
			fs = append(fs, c.found(moduleZipCorrupt, finding.Error, fmt.Sprintf("%s.zip hashes to %s, %s says %s", v.escVersion, h, from, want), nil)...)
		default:
			zipOK = true
		}
	}
	if t != nil {
		atomic.AddInt64(&c.res.HashedBytes, t.bytes)
		h, err := hashTree(c.root, v, t)
		switch {
		case err != nil:
			fs = append(fs, c.found(moduleUnreadable, finding.Error, err.Error(), nil)...)
		case h != want:
			fs = append(fs, c.modified(h, want, from, t, z, zipOK)...)
		}
	}
	return fs, e, len(fs) == 0
}

// modified is MODULE_MODIFIED, naming the files that differ when a good
// zip is there to compare with; want is the hash the file from holds.
func (c *checker) modified(got, want, from string, t *tree, z *zip.Reader, zipOK bool) []Finding {
	detail := fmt.Sprintf("the extracted files hash to %s, %s says %s", got, from, want)
	if !zipOK {
		return c.found(moduleModified, finding.Error, detail+" (no good .zip to name the files that differ)", nil)
	}
	files, err := differing(c.root, c.v, t, z)
	if err != nil {
		return c.found(moduleModified, finding.Error, fmt.Sprintf("%s (comparing with the .zip: %v)", detail, err), nil)
	}
	return c.found(moduleModified, finding.Error, detail+"; differing from the .zip: "+strings.Join(files, ", "), files)
}

func (c *checker) found(code finding.Code, sev finding.Severity, detail string, files []string) []Finding {
	if files == nil {
		files = []string{}
	}
	return []Finding{{Code: code, Severity: sev, Cache: c.opt.Target, Module: c.v.module(), Path: c.v.rel(),
		Detail: detail, Files: files, Fix: reinstall(c.root.Path, c.v)}}
}

// lockShared takes go's per-version lock shared, when the lock file is
// there, so that neither go nor gomaint clean extracts or removes the
// version while it is read. busy: a .partial, or someone holds the lock.
// The lock file is never created: verification changes nothing.
func (c *checker) lockShared(dlfd int) (unlock func(), busy bool) {
	unlock = func() {}
	if fd, err := c.root.OpenFile(dlfd, c.v.escVersion+".lock", unix.O_RDONLY); err == nil {
		if unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) != nil {
			unix.Close(fd)
			return unlock, true
		}
		unlock = func() { unix.Close(fd) } // closing releases the flock
	}
	if _, err := c.root.Stat(dlfd, c.v.escVersion+".partial"); err == nil {
		unlock()
		return func() {}, true
	}
	return unlock, false
}

// stamp is the version's fingerprint: its tree's, its zip's, and its
// .mod's and lookup record's, which the record check reads.
func (c *checker) stamp(dlfd int, t *tree) string {
	s := "no tree"
	if t != nil {
		s = t.stamp
	}
	for _, ext := range []string{".zip", ".mod"} {
		if st, err := c.root.Stat(dlfd, c.v.escVersion+ext); err == nil {
			s += " " + ext + " " + fileStamp(&st)
		}
	}
	if c.rec != nil {
		s += " " + c.rec.rel() + " " + fileStamp(&c.rec.st)
	}
	return s
}

func fileStamp(st *unix.Statx_t) string {
	return fmt.Sprintf("%d %d %d.%d %d.%d", st.Size, st.Ino, st.Mtime.Sec, st.Mtime.Nsec, st.Ctime.Sec, st.Ctime.Nsec)
}
