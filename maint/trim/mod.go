package trim

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"golang.org/x/sys/unix"

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
		return &modCounter{now: now, minAge: p.MinAge, root: root, mount: sroot.Mount}
	})
	var interrupted int64
	if err != nil {
		return nil, err
	}
	var h histogram
	var toolchains []toolchain
	res.DiskBytesBefore = int64(sroot.Stat.Blocks) * 512
	for _, v := range vs {
		h.merge(&v.hist)
		res.DiskBytesBefore += v.total
		res.TooDeep += v.tooDeep
		interrupted += v.interrupted
		toolchains = append(toolchains, v.toolchains...)
	}
	sp := spaceOf(p.MinFree, &sroot.FS)
	var extra []string
	if interrupted > 0 {
		extra = append(extra, "interrupted")
	}
	res.begin(sp, res.DiskBytesBefore, p, extra...)
	cutoff, blocked, bd := plan(&h, res.DiskBytesBefore, sp.deficit, p)
	cutoff, err = refine(cutoff, bd, func(w *window) (*window, error) {
		vs, err := scan.Walk(ctx, root.FD, sroot, scan.Options{Workers: opt.Workers}, func() *modCounter {
			return &modCounter{now: now, minAge: p.MinAge, root: root, mount: sroot.Mount, win: w.empty()}
		})
		for _, v := range vs {
			w.merge(v.win)
		}
		return w, err
	})
	if err != nil {
		return nil, err
	}
	res.CutoffUnix, res.Blocked = cutoffTime(opt.Now, cutoff), blocked

	busy := &sync.Map{} // versions being removed, by "<@v dir>/<version>"
	if cutoff < noCutoff || interrupted > 0 {
		var mu sync.Mutex // guards res for every worker
		_, err := scan.Walk(ctx, root.FD, sroot, scan.Options{Workers: opt.Workers, Entries: opt.Entries}, func() *modRemover {
			return &modRemover{modCounter: modCounter{now: now, minAge: p.MinAge, root: root, mount: sroot.Mount}, cutoff: cutoff, opt: &opt, mu: &mu, res: res, busy: busy}
		})
		if err != nil {
			return res, err
		}
	}
	removeToolchains(root, toolchains, p, now, res, &opt, busy)
	removeVCS(root, p, now, res, &opt)
	res.end(sp, p)
	if !res.WithinLimit && res.Blocked == "" && res.Skipped > 0 {
		res.Blocked = fmt.Sprintf("locks: %d module versions are being downloaded or extracted by go", res.Skipped)
	}
	res.DurationMS = time.Since(start).Milliseconds()
	return res, ctx.Err()
}

// removeToolchains keeps the newest KeepToolchains and those used within
// ToolchainMaxAge (and min_age); the rest go.
func removeToolchains(root *safefs.Root, tcs []toolchain, p Policy, now int64, res *Result, opt *Options, busy *sync.Map) {
	if p.ToolchainMaxAge <= 0 {
		return
	}
	sort.Slice(tcs, func(i, j int) bool { return tcs[j].goVersion.Less(tcs[i].goVersion) })
	maxAge := max(p.ToolchainMaxAge, p.MinAge)
	for i, tc := range tcs {
		if i < p.KeepToolchains || tc.age(now, p.MinAge) < maxAge {
			continue
		}
		fd, err := root.OpenDir(tc.dir)
		if err != nil {
			res.failed(tc.dir+"/"+tc.name, err)
			continue
		}
		removeVersion(root, fd, tc.version, "toolchain", opt, res, busy)
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
		rm := Removal{Path: "cache/vcs/" + n, Unit: "vcs", DiskBytes: t.DiskBytes, Files: t.Files, LastUsed: t.NewestMtime}
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
