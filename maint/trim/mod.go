package trim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/layout"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
)

// Mod trims a module cache. The unit is one module version: its extracted
// directory and its .zip and .ziphash are removed together, under go's own
// download lock. Its .info, .mod and .lock stay: they are small, and go
// needs .info and .mod to resolve the module graph without the network.
//
// go records no use in the module cache, so last use is the newest atime
// of the version's files (refreshed about daily under relatime). On a
// noatime mount that is the extraction time, and the result says so.
//
// Toolchains (golang.org/toolchain@...) are never removed to meet a size:
// the newest keep_toolchains stay, and of the others those unused for
// toolchain_max_age go. VCS checkouts in cache/vcs go whole after
// vcs_max_age.
func Mod(ctx context.Context, root *safefs.Root, p Policy, opt Options, noatime bool) (*Result, error) {
	start := time.Now()
	now := opt.Now.Unix()
	res := &Result{DryRun: opt.DryRun, Policy: p.String()}
	if noatime {
		res.AtimeNote = "the mount has noatime: module versions are aged by extraction time, not last use"
	}
	sroot, err := scan.RootOf(root.FD)
	if err != nil {
		return nil, err
	}
	vs, err := scan.Walk(ctx, root.FD, sroot, scan.Options{Workers: opt.Workers, Entries: opt.Entries}, func() *modCounter {
		return &modCounter{now: now, root: root, mount: sroot.Mount}
	})
	if err != nil {
		return nil, err
	}
	var h histogram
	var toolchains []toolchain
	res.BytesBefore = int64(sroot.Stat.Blocks) * 512
	for _, v := range vs {
		h.merge(&v.hist)
		res.BytesBefore += v.total
		res.TooDeep += v.tooDeep
		toolchains = append(toolchains, v.toolchains...)
	}
	cutoff, blocked := plan(&h, res.BytesBefore, p)
	res.CutoffUnix, res.Blocked = cutoffTime(opt.Now, cutoff), blocked

	if cutoff < noCutoff {
		var mu sync.Mutex // guards res for every worker
		_, err := scan.Walk(ctx, root.FD, sroot, scan.Options{Workers: opt.Workers, Entries: opt.Entries}, func() *modRemover {
			return &modRemover{modCounter: modCounter{now: now, root: root, mount: sroot.Mount}, cutoff: cutoff, opt: &opt, mu: &mu, res: res}
		})
		if err != nil {
			return res, err
		}
	}
	removeToolchains(root, toolchains, p, now, res, &opt)
	removeVCS(root, p, now, res, &opt)
	res.BytesAfter = res.BytesBefore - res.FreedBytes
	res.WithinLimit = p.MaxSize == 0 || res.BytesAfter <= p.MaxSize
	if !res.WithinLimit && res.Blocked == "" && res.Skipped > 0 {
		res.Blocked = fmt.Sprintf("locks: %d module versions are being downloaded or extracted by go", res.Skipped)
	}
	res.DurationMS = time.Since(start).Milliseconds()
	return res, ctx.Err()
}

// version is one extracted module version, as found in its parent dir.
type version struct {
	dir       string // parent directory, relative to the root ("github.com/google")
	name      string // "uuid@v1.6.0"
	bytes     int64  // extracted tree plus .zip and .ziphash
	treeBytes int64  // extracted tree alone
	files     int64
	lastUsed  int64
	tooDeep   bool // measured in part: nested deeper than scan.MaxSubtreeDepth
}

// downloadDir is the @v directory holding a version's download files.
func (v version) downloadDir() (string, string) {
	i := strings.LastIndexByte(v.name, '@')
	mod := v.name[:i]
	if v.dir != "" {
		mod = v.dir + "/" + mod
	}
	return "cache/download/" + mod + "/@v", v.name[i+1:]
}

type toolchain struct {
	version
	goVersion config.GoVersion
}

// modCounter is one worker's share of pass 1: each version is summed in
// one sequential read, so that its last use is known as a whole.
type modCounter struct {
	now        int64
	root       *safefs.Root
	mount      uint64
	total      int64
	hist       histogram
	toolchains []toolchain
	tooDeep    int64 // versions measured in part (scan.MaxSubtreeDepth)
}

func (c *modCounter) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	kind, class := layout.Entry(d, e.Name, e.IsDir(), false)
	if kind != layout.VersionDir && kind != layout.ToolchainDir {
		c.total += e.Blocks() // a version's .zip and .ziphash included
		return class
	}
	v, ok := c.measure(d, string(e.Name))
	if !ok {
		return scan.Skip
	}
	c.total += v.treeBytes
	if v.tooDeep {
		c.tooDeep++
	}
	if kind == layout.ToolchainDir {
		gv, _ := config.ParseGoVersion(toolchainGo(v.name))
		c.toolchains = append(c.toolchains, toolchain{v, gv})
	} else {
		c.hist.add(time.Duration(c.now-v.lastUsed)*time.Second, v.bytes)
	}
	return scan.Skip
}

func (c *modCounter) Report(*scan.Dir, []byte, scan.Problem, error) {}

// measure sums a version's tree and its download files.
func (c *modCounter) measure(d *scan.Dir, name string) (version, bool) {
	t, err := scan.Subtree(d.FD(), name, c.mount)
	if err != nil {
		return version{}, false
	}
	v := version{dir: d.Path, name: name, bytes: t.DiskBytes, treeBytes: t.DiskBytes, files: t.Files, lastUsed: t.NewestAtime, tooDeep: t.TooDeep > 0}
	if t.Files == 0 {
		v.lastUsed = t.NewestMtime // nothing to read: when it was made
	}
	dl, ver := v.downloadDir()
	if fd, err := c.root.OpenDir(dl); err == nil {
		for _, ext := range []string{".zip", ".ziphash"} {
			if st, err := c.root.Stat(fd, ver+ext); err == nil {
				v.bytes += int64(st.Blocks) * 512
				v.files++
			}
		}
		unix.Close(fd)
	}
	return v, true
}

// toolchainGo turns "toolchain@v0.0.1-go1.22.0.linux-amd64" into "go1.22.0".
func toolchainGo(name string) string {
	_, rest, _ := strings.Cut(name, "-go")
	if i := strings.Index(rest, "."+"linux"); i >= 0 {
		rest = rest[:i]
	} else if i := strings.LastIndexByte(rest, '.'); i >= 0 && strings.Count(rest, ".") > 2 {
		rest = rest[:i]
	}
	return "go" + rest
}

// modRemover is pass 2: versions last used before the cutoff go.
type modRemover struct {
	modCounter
	cutoff time.Duration
	opt    *Options
	mu     *sync.Mutex
	res    *Result
}

func (r *modRemover) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	kind, class := layout.Entry(d, e.Name, e.IsDir(), false)
	if kind == layout.ToolchainDir {
		return scan.Skip
	}
	if kind != layout.VersionDir {
		return class
	}
	v, ok := r.measure(d, string(e.Name))
	if !ok || time.Duration(r.now-v.lastUsed)*time.Second < r.cutoff {
		return scan.Skip
	}
	var one Result
	removeVersion(r.root, d.FD(), v, "module", r.opt, &one)
	r.mu.Lock()
	r.res.merge(&one)
	r.mu.Unlock()
	return scan.Skip
}

// removeVersion removes one module version with go's protocol: hold
// @v/<version>.lock, create <version>.partial so that any reader treats
// the version as incomplete, remove the extracted tree, then the .zip and
// .ziphash, then .partial. A version whose lock is held is skipped.
func removeVersion(root *safefs.Root, parentFD int, v version, unit string, opt *Options, res *Result) {
	path := v.name
	if v.dir != "" {
		path = v.dir + "/" + v.name
	}
	rm := Removal{Path: path, Unit: unit, Bytes: v.bytes, Files: v.files, LastUsed: v.lastUsed}
	if opt.DryRun {
		res.removed(rm, opt)
		return
	}
	dl, ver := v.downloadDir()
	dlfd, err := root.OpenDir(dl)
	if err != nil {
		res.failed(path, fmt.Errorf("its download directory: %w", err))
		return
	}
	defer unix.Close(dlfd)
	lock, err := root.OpenFile(dlfd, ver+".lock", unix.O_RDWR|unix.O_CREAT)
	if err != nil {
		res.failed(path, err)
		return
	}
	defer unix.Close(lock) // closing releases the flock
	if err := unix.Flock(lock, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			res.Skipped++
			return
		}
		res.failed(path, fmt.Errorf("lock: %w", err))
		return
	}
	partial, err := root.OpenFile(dlfd, ver+".partial", unix.O_WRONLY|unix.O_CREAT)
	if err != nil {
		res.failed(path, err)
		return
	}
	unix.Close(partial)
	if err := root.RemoveTree(parentFD, v.name); err != nil && !errors.Is(err, unix.ENOENT) {
		res.failed(path, err) // .partial stays: go re-extracts on next use
		return
	}
	for _, ext := range []string{".zip", ".ziphash", ".partial"} {
		if err := root.Remove(dlfd, ver+ext); err != nil && !errors.Is(err, unix.ENOENT) {
			res.failed(path, err)
			return
		}
	}
	res.removed(rm, opt)
}

// removeToolchains keeps the newest KeepToolchains and those used within
// ToolchainMaxAge (and min_age); the rest go.
func removeToolchains(root *safefs.Root, tcs []toolchain, p Policy, now int64, res *Result, opt *Options) {
	if p.ToolchainMaxAge <= 0 {
		return
	}
	sort.Slice(tcs, func(i, j int) bool { return tcs[j].goVersion.Less(tcs[i].goVersion) })
	maxAge := max(p.ToolchainMaxAge, p.MinAge)
	for i, tc := range tcs {
		if i < p.KeepToolchains || time.Duration(now-tc.lastUsed)*time.Second < maxAge {
			continue
		}
		fd, err := root.OpenDir(tc.dir)
		if err != nil {
			res.failed(tc.dir+"/"+tc.name, err)
			continue
		}
		removeVersion(root, fd, tc.version, "toolchain", opt, res)
		unix.Close(fd)
	}
}

// removeVCS removes cache/vcs/<hash> checkouts unmodified for VCSMaxAge,
// under their <hash>.lock.
func removeVCS(root *safefs.Root, p Policy, now int64, res *Result, opt *Options) {
	if p.VCSMaxAge <= 0 {
		return
	}
	fd, err := root.OpenDir("cache/vcs")
	if err != nil {
		return // none
	}
	defer unix.Close(fd)
	names, err := safefs.ReadNames(fd)
	if err != nil {
		res.failed("cache/vcs", err)
		return
	}
	maxAge := max(p.VCSMaxAge, p.MinAge)
	for _, n := range names {
		st, err := root.Stat(fd, n)
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || time.Duration(now-st.Mtime.Sec)*time.Second < maxAge {
			continue
		}
		t, err := scan.Subtree(fd, n, root.Mount())
		if err != nil || time.Duration(now-t.NewestMtime)*time.Second < maxAge {
			continue
		}
		rm := Removal{Path: "cache/vcs/" + n, Unit: "vcs", Bytes: t.DiskBytes, Files: t.Files, LastUsed: t.NewestMtime}
		if !opt.DryRun {
			lock, err := root.OpenFile(fd, n+".lock", unix.O_RDWR|unix.O_CREAT)
			if err != nil {
				res.failed(rm.Path, err)
				continue
			}
			if err := unix.Flock(lock, unix.LOCK_EX|unix.LOCK_NB); err != nil {
				unix.Close(lock)
				res.Skipped++
				continue
			}
			err = root.RemoveTree(fd, n)
			unix.Close(lock)
			if err != nil {
				res.failed(rm.Path, err)
				continue
			}
		}
		res.removed(rm, opt)
	}
}
