package workset

import (
	"context"
	"slices"
	"time"

	"github.com/gomaint/gomaint/maint/layout"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/trim"
)

// clockSlack widens "modified at or after since": file times come from the
// kernel's coarse clock, up to a tick behind time.Now, so a file a run
// wrote just after since may bear a time just before it.
const clockSlack = time.Second

// PruneModules removes from the module cache at root every module version
// that is neither in used (as watch.Modules.Used names them:
// "github.com/!burnt!sushi/toml@v1.6.0") nor has a file modified at or
// after since (the run's start: a version downloaded or extracted during
// the run is kept even if no event named it). Each goes with
// trim.RemoveVersion, by go's protocol: under its .lock, .partial first,
// its extracted tree, .zip and .ziphash; its .info and .mod stay, so go
// still resolves the module graph offline, and a version whose lock a go
// command holds is skipped. Toolchains (golang.org/toolchain@...),
// cache/vcs and cache/download/sumdb are left alone. A dry run removes
// nothing and reports what a real run would remove (opt.Removed hears of
// each). The caller holds the cache's lock (lock.Acquire) and passes used
// only from a watch whose Incomplete said nil.
//
// The result sums every removal; there is no size policy, so it holds no
// cache size or cutoff.
func PruneModules(ctx context.Context, root *safefs.Root, used []string, since time.Time, opt trim.Options) (*trim.Result, error) {
	start := time.Now()
	res := &trim.Result{DryRun: opt.DryRun, Policy: "module versions the run did not use", WithinLimit: true}
	sroot, err := scan.RootOf(root.FD)
	if err != nil {
		return nil, err
	}
	listers, err := scan.Walk(ctx, root.FD, sroot, scan.Options{Workers: opt.Workers, Entries: opt.Entries},
		func() *versionLister { return &versionLister{seen: map[string]seenVersion{}} })
	if err != nil {
		return nil, err
	}
	seen := map[string]seenVersion{}
	for _, l := range listers {
		for name, v := range l.seen {
			seen[name] = seen[name].merge(v)
		}
	}
	keep := map[string]bool{}
	for _, u := range used {
		keep[u] = true
	}
	cut := since.Add(-clockSlack).UnixNano()
	names := make([]string, 0, len(seen))
	for name, v := range seen {
		if v.removable && !keep[name] && v.newest < cut {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if ctx.Err() != nil {
			break
		}
		r, err := trim.RemoveVersion(root, name, opt)
		if err != nil {
			res.Failed++
			if res.FirstError == "" {
				res.FirstError = err.Error()
			}
			continue
		}
		res.Add(r)
	}
	if res.Units > 0 {
		res.Reason = "unused"
	}
	res.DurationMS = time.Since(start).Milliseconds()
	return res, ctx.Err()
}

// seenVersion is what a walk found of one module version.
type seenVersion struct {
	newest    int64 // newest mtime or ctime, Unix ns, of its directory and download files
	removable bool  // it has an extracted tree, a .zip, .ziphash or .partial: something to remove
}

func (v seenVersion) merge(o seenVersion) seenVersion {
	return seenVersion{newest: max(v.newest, o.newest), removable: v.removable || o.removable}
}

// versionLister is one walker's list of module versions, by the name
// trim.RemoveVersion takes. It reads no extracted tree: a version's
// directory is renamed into place when go extracts it, which sets the
// directory's ctime, and its download files are written when fetched.
type versionLister struct {
	seen map[string]seenVersion
}

func (l *versionLister) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	kind, class := layout.Entry(d, e.Name, e.IsDir(), false)
	switch {
	case kind == layout.VersionDir:
		l.note(d.Join(e.Name), e, true)
		return scan.Skip
	case d.Class == layout.AtV && e.IsFile():
		if d.Path == "cache/download/golang.org/toolchain/@v" {
			return scan.Skip
		}
		switch _, ext, _ := layout.VersionFile(string(e.Name)); ext {
		case ".info", ".mod":
			l.note(layout.VersionOfDownload(d.Path, string(e.Name)), e, false)
		case ".zip", ".ziphash", ".partial":
			l.note(layout.VersionOfDownload(d.Path, string(e.Name)), e, true)
		}
		return scan.Skip
	}
	switch class {
	case layout.Root, layout.ModPath, layout.ModCache, layout.Download, layout.AtV:
		return class
	}
	return scan.Skip // toolchains, sumdb, vcs, temporary and unexpected trees
}

func (l *versionLister) Report(*scan.Dir, []byte, scan.Problem, error) {}

func (l *versionLister) note(name string, e *scan.Entry, removable bool) {
	st := e.Stat
	t := max(st.Mtime.Sec*1e9+int64(st.Mtime.Nsec), st.Ctime.Sec*1e9+int64(st.Ctime.Nsec))
	l.seen[name] = l.seen[name].merge(seenVersion{newest: t, removable: removable})
}
