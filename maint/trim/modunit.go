package trim

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/layout"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
)

// version is one module version, whatever state it is in: extracted (its
// directory, .zip and .ziphash), downloaded only (.zip and .ziphash), or
// interrupted: a .partial left by a removal or an extraction that was
// killed, with any of the rest. An interrupted version is always removed
// (go treats it as missing anyway); the others go by their last use.
type version struct {
	dir         string // parent directory, relative to the root ("github.com/google")
	name        string // "uuid@v1.6.0"
	bytes       int64  // extracted tree plus .zip and .ziphash
	treeBytes   int64  // extracted tree alone
	files       int64
	lastUsed    int64
	dated       int64 // ctime of the directory (or of the .zip): when lastUsed was set, for lruAge
	tooDeep     bool  // measured in part: nested deeper than scan.MaxSubtreeDepth
	hasTree     bool  // the extracted directory exists
	interrupted bool  // @v/<version>.partial exists
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

// age is how long ago the version was last used (lruAge), from now in
// Unix seconds.
func (v version) age(now int64, minAge time.Duration) time.Duration {
	return lruAge(now*1e9, v.lastUsed*1e9, v.dated*1e9, minAge)
}

func (v version) path() string {
	if v.dir == "" {
		return v.name
	}
	return v.dir + "/" + v.name
}

type toolchain struct {
	version
	goVersion config.GoVersion
}

// modCounter is one worker's share of pass 1: each version is summed in
// one sequential read, so that its last use is known as a whole.
type modCounter struct {
	now         int64
	minAge      time.Duration
	root        *safefs.Root
	mount       uint64
	total       int64
	hist        histogram
	toolchains  []toolchain
	tooDeep     int64   // versions measured in part (scan.MaxSubtreeDepth)
	interrupted int64   // versions to complete whatever the policy
	win         *window // set in a refining pass
}

func (c *modCounter) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	kind, class := layout.Entry(d, e.Name, e.IsDir(), false)
	switch {
	case kind == layout.VersionDir || kind == layout.ToolchainDir:
		v, ok := c.measure(d, e)
		if !ok {
			return scan.Skip
		}
		c.total += v.treeBytes // its .zip and .ziphash count as entries of @v
		if kind == layout.ToolchainDir && !v.interrupted {
			gv, _ := config.ParseGoVersion(toolchainGo(v.name))
			c.toolchains = append(c.toolchains, toolchain{v, gv})
		} else {
			c.count(v)
		}
		return scan.Skip
	case d.Class == layout.AtV && e.IsFile():
		c.total += e.Blocks()
		if v, ok := c.download(d, string(e.Name)); ok {
			c.count(v)
		}
		return class
	}
	c.total += e.Blocks()
	return class
}

func (c *modCounter) Report(*scan.Dir, []byte, scan.Problem, error) {}

// count puts a version in the histogram: an interrupted one with the
// oldest, since it goes first whatever the policy.
func (c *modCounter) count(v version) {
	if v.tooDeep {
		c.tooDeep++
	}
	age := v.age(c.now, c.minAge)
	switch {
	case c.win != nil:
		if !v.interrupted { // in the oldest bucket, never refined
			c.win.add(age, v.bytes)
		}
	case v.interrupted:
		c.interrupted++
		c.hist.bytes[nBuckets-1] += v.bytes
		c.hist.count[nBuckets-1]++
	default:
		c.hist.add(age, v.bytes)
	}
}

// measure sums an extracted version's tree and its download files.
func (c *modCounter) measure(d *scan.Dir, e *scan.Entry) (version, bool) {
	return c.measureTree(d.FD(), d.Path, string(e.Name), e.Stat.Ctime.Sec)
}

// measureTree is measure of the version name in the directory dir, open
// as parentFD; ctime is its directory's.
func (c *modCounter) measureTree(parentFD int, dir, name string, ctime int64) (version, bool) {
	t, err := scan.Subtree(parentFD, name, c.mount)
	if err != nil {
		return version{}, false
	}
	v := version{dir: dir, name: name, bytes: t.DiskBytes, treeBytes: t.DiskBytes, files: t.Files, lastUsed: t.NewestAtime,
		tooDeep: t.TooDeep > 0, hasTree: true, dated: ctime}
	if t.Files == 0 {
		v.lastUsed = t.NewestMtime // nothing to read: when it was made
	}
	dl, ver := v.downloadDir()
	if fd, err := c.root.OpenDir(dl); err == nil {
		c.addDownloads(fd, ver, &v)
		unix.Close(fd)
	}
	return v, true
}

// addDownloads adds a version's .zip and .ziphash, and notes a .partial.
func (c *modCounter) addDownloads(dlfd int, ver string, v *version) {
	for _, ext := range []string{".zip", ".ziphash", ".partial"} {
		st, err := c.root.Stat(dlfd, ver+ext)
		if err != nil {
			continue
		}
		v.bytes += int64(st.Blocks) * 512
		if ext == ".partial" {
			v.interrupted = true
			continue
		}
		v.files++
		if !v.hasTree { // a download alone is last used when read
			v.lastUsed = max(v.lastUsed, st.Atime.Sec, st.Mtime.Sec)
			v.dated = max(v.dated, st.Ctime.Sec)
		}
	}
}

// download is the version that the @v entry name stands for when it has
// no extracted directory: its .partial stands for an interrupted version,
// its .zip (without a .partial) for a downloaded-only one. A toolchain
// downloaded only is left alone: the toolchain rule (keep_toolchains)
// counts extracted toolchains.
func (c *modCounter) download(d *scan.Dir, name string) (version, bool) {
	ver, ext, ok := layout.VersionFile(name)
	if !ok || (ext != ".partial" && ext != ".zip") {
		return version{}, false
	}
	if ext == ".zip" {
		if _, err := c.root.Stat(d.FD(), ver+".partial"); err == nil {
			return version{}, false // the .partial stands for it
		}
		if d.Path == "cache/download/golang.org/toolchain/@v" {
			return version{}, false
		}
	}
	full := layout.VersionOfDownload(d.Path, name)
	v := version{name: full}
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		v.dir, v.name = full[:i], full[i+1:]
	}
	if treeExists(c.root, v) {
		return version{}, false // the directory's visit stands for it
	}
	c.addDownloads(d.FD(), ver, &v)
	return v, v.interrupted || v.files > 0
}

// treeExists reports whether a version's extracted directory exists (or
// cannot be ruled out).
func treeExists(root *safefs.Root, v version) bool {
	fd, err := root.OpenDir(v.dir)
	if err != nil {
		return !errors.Is(err, unix.ENOENT)
	}
	defer unix.Close(fd)
	_, err = root.Stat(fd, v.name)
	return !errors.Is(err, unix.ENOENT)
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

// modRemover is pass 2: interrupted versions go, and the others last used
// before the cutoff.
type modRemover struct {
	modCounter
	cutoff time.Duration
	opt    *Options
	mu     *sync.Mutex
	res    *Result
	busy   *sync.Map
}

func (r *modRemover) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	kind, class := layout.Entry(d, e.Name, e.IsDir(), false)
	switch {
	case kind == layout.VersionDir || kind == layout.ToolchainDir:
		v, ok := r.measure(d, e)
		if ok && (kind == layout.VersionDir || v.interrupted) && r.due(v) {
			r.remove(d.FD(), v, unitName(kind))
		}
		return scan.Skip
	case d.Class == layout.AtV && e.IsFile():
		if v, ok := r.download(d, string(e.Name)); ok && r.due(v) {
			unit := "module"
			if d.Path == "cache/download/golang.org/toolchain/@v" {
				unit = "toolchain"
			}
			r.remove(-1, v, unit)
		}
	}
	return class
}

func (r *modRemover) due(v version) bool {
	return v.interrupted || v.age(r.now, r.minAge) >= r.cutoff
}

func (r *modRemover) remove(parentFD int, v version, unit string) {
	var one Result
	removeVersion(r.root, parentFD, v, unit, r.opt, &one, r.busy)
	r.mu.Lock()
	r.res.Add(&one)
	r.mu.Unlock()
}

func unitName(k layout.Kind) string {
	if k == layout.ToolchainDir {
		return "toolchain"
	}
	return "module"
}

// removeVersion removes one module version with go's protocol: hold
// @v/<version>.lock, create <version>.partial so that any reader treats
// the version as incomplete, remove the extracted tree, then the .zip and
// .ziphash, then .partial. A version whose lock is held is skipped. Killed
// at any point, it leaves .partial, and the next run completes the job.
// parentFD is the extracted directory's parent, or -1 to look it up.
// busy holds the versions other workers are removing: pass 2 may meet one
// version twice, through its directory and through its .partial.
func removeVersion(root *safefs.Root, parentFD int, v version, unit string, opt *Options, res *Result, busy *sync.Map) {
	path := v.path()
	rm := Removal{Path: path, Unit: unit, DiskBytes: v.bytes, Files: v.files, LastUsed: v.lastUsed}
	dl, ver := v.downloadDir()
	if opt.DryRun {
		if lockHeld(root, dl, ver) {
			res.Skipped++ // as the real run would
			return
		}
		res.removed(rm, opt)
		return
	}
	if _, taken := busy.LoadOrStore(dl+"/"+ver, true); taken {
		return
	}
	defer busy.Delete(dl + "/" + ver)
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
	if !stillDue(root, dlfd, ver, v) {
		return
	}
	partial, err := root.OpenFile(dlfd, ver+".partial", unix.O_WRONLY|unix.O_CREAT)
	if err != nil {
		res.failed(path, err)
		return
	}
	unix.Close(partial)
	if err := removeTree(root, parentFD, v); err != nil {
		res.failed(path, err) // .partial stays: go re-extracts on next use, the next clean completes
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

// lockHeld reports, for a dry run, whether a go command holds a version's
// lock: a shared lock taken and dropped at once, on the lock file opened
// read-only, never created.
func lockHeld(root *safefs.Root, dl, ver string) bool {
	dlfd, err := root.OpenDir(dl)
	if err != nil {
		return false
	}
	defer unix.Close(dlfd)
	lock, err := root.OpenFile(dlfd, ver+".lock", unix.O_RDONLY)
	if err != nil {
		return false
	}
	defer unix.Close(lock)
	return errors.Is(unix.Flock(lock, unix.LOCK_SH|unix.LOCK_NB), unix.EWOULDBLOCK)
}

// stillDue judges a version again under its lock, which go holds while it
// downloads or extracts: an interrupted version may have been completed
// since it was seen, a downloaded-only one extracted, and another worker
// may have removed either.
func stillDue(root *safefs.Root, dlfd int, ver string, v version) bool {
	has := func(ext string) bool { _, err := root.Stat(dlfd, ver+ext); return err == nil }
	switch {
	case v.interrupted:
		return has(".partial")
	case !v.hasTree:
		return has(".zip") && !treeExists(root, v)
	}
	return true
}

// removeTree removes a version's extracted directory, if there is one.
func removeTree(root *safefs.Root, parentFD int, v version) error {
	if parentFD < 0 {
		fd, err := root.OpenDir(v.dir)
		if errors.Is(err, unix.ENOENT) {
			return nil
		} else if err != nil {
			return err
		}
		defer unix.Close(fd)
		parentFD = fd
	}
	if err := root.RemoveTree(parentFD, v.name); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}
