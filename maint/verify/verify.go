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
	// Exists is false for a cache go has not made yet: nothing to verify.
	Exists bool `json:"exists"`
	// Versions seen; of them, Hashed were read and hashed, Unchanged were
	// verified before and have not changed since, Busy were being
	// downloaded, extracted or removed (a held lock or a .partial).
	// ModOnly are versions of which go keeps only the .mod; of them,
	// Unchecked have no checksum known for it, so nothing to check.
	Versions    int64 `json:"versions"`
	Hashed      int64 `json:"hashed"`
	Unchanged   int64 `json:"unchanged"`
	Busy        int64 `json:"busy"`
	ModOnly     int64 `json:"mod_only"`
	Unchecked   int64 `json:"unchecked"`
	HashedBytes int64 `json:"hashed_bytes"`
	DurationMS  int64 `json:"duration_ms"`
	// Interrupted: the run was stopped before it checked every version;
	// what did verify is remembered, the rest is left to the next run.
	Interrupted bool   `json:"interrupted,omitempty"`
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
	res := &CacheResult{Target: opt.Target, Path: root.Path, Exists: true, Versions: int64(len(vs)), Verified: map[string]Entry{}}
	var findings []Finding
	for _, b := range bad {
		paths := make([]string, len(b.paths))
		for i, p := range b.paths {
			paths[i] = root.Path + "/" + p
		}
		findings = append(findings, Finding{Code: moduleUnreadable, Severity: finding.Error, Cache: opt.Target, Path: b.rel,
			Detail: b.err.Error() + "; go makes no such name", Files: []string{},
			Fix: "inspect, then remove: " + rmCommand(paths...)})
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
				c := checker{ctx: ctx, root: root, hosts: hosts, v: vs[i], opt: &opt, res: res}
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
	ctx   context.Context // a stop: the version is left unjudged
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
	if v.modOnly() {
		return c.modOnly(dlfd)
	}
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
	if c.unchanged(e) {
		return nil, e, true
	}
	atomic.AddInt64(&c.res.Hashed, 1)
	return c.hash(dlfd, t, e)
}

// unchanged says whether the version verified before with entry e, and
// counts it so; Full trusts no earlier run.
func (c *checker) unchanged(e Entry) bool {
	if prev, seen := c.opt.Known[c.v.key()]; !seen || c.opt.Full || prev != e {
		return false
	}
	atomic.AddInt64(&c.res.Unchanged, 1)
	return true
}

// modOnly checks a version of which go keeps only the .mod: it needed the
// module's requirements for the module graph, not its code, so there is
// no .ziphash. The .mod is checked against the checksum database's answer
// go kept, when it has the version's /go.mod line; without one (GOSUMDB
// off, GONOSUMDB, GOPRIVATE) there is nothing to check it against, which
// is no finding: the version is counted as unchecked.
func (c *checker) modOnly(dlfd int) (fs []Finding, e Entry, ok bool) {
	atomic.AddInt64(&c.res.ModOnly, 1)
	var err error
	if c.rec, err = findRecord(c.root, c.hosts, c.v); err != nil {
		return c.found(moduleUnreadable, finding.Error, err.Error(), nil), e, false
	}
	_, mod, fs := c.recordSums()
	if fs != nil {
		return fs, e, false
	}
	if mod == "" {
		atomic.AddInt64(&c.res.Unchecked, 1)
		return nil, e, false
	}
	e.Stamp = c.stamp(dlfd, nil)
	if c.unchanged(e) {
		return nil, e, true
	}
	atomic.AddInt64(&c.res.Hashed, 1)
	fs, checked := c.checkMod(dlfd, mod)
	if !checked {
		atomic.AddInt64(&c.res.Unchecked, 1) // its .mod went since the walk
	}
	return fs, e, checked && len(fs) == 0
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
		h, n, err := hashZip(c.ctx, z)
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
		h, err := hashTree(c.ctx, c.root, v, t)
		switch {
		case err != nil:
			fs = append(fs, c.found(moduleUnreadable, finding.Error, err.Error(), nil)...)
		case h != want:
			fs = append(fs, c.modified(h, want, from, t, z, zipOK)...)
		}
	}
	if c.ctx.Err() != nil {
		return nil, e, false // stopped part-way: no verdict, the next run hashes it
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
	files, err := differing(c.ctx, c.root, c.v, t, z)
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
