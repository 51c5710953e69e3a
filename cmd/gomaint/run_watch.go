package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/gomaint/gomaint/maint/buildfail"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/lock"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/workset"
)

// watchAll watches the cache of every target and takes its lock, at the
// paths the environment and go's defaults give (target.Native), and asks
// go env in the background: it takes milliseconds, which the command need
// not wait for. Its answer gives scan its env; confirm, called once the
// command has ended, waits for it and drops the record of a cache go env
// placed elsewhere (a go.env of go's own that sets GOCACHE, say), since
// that one went unwatched.
func (r *runner) watchAll(ctx context.Context, cfg *config.Config, environ []string, scan *buildfail.Scanner) (confirm func()) {
	asked := make(chan []target.Resolved, 1)
	go func() {
		resolved, env := target.Resolve(ctx, cfg, environ)
		scan.SetEnv(buildfail.Env{GOCACHE: env.GOCACHE, GOMODCACHE: env.GOMODCACHE, GOROOT: env.GOROOT, TempDir: goTempDir()})
		asked <- resolved
	}()
	guessed := target.Native(cfg, environ)
	for _, rt := range guessed {
		r.watch(rt)
	}
	for _, b := range r.builds {
		b.release = r.lock(b.rt, b.ws.Root)
	}
	for _, m := range r.mods {
		m.release = r.lock(m.rt, m.root)
	}
	return func() {
		for i, rt := range <-asked {
			if g := guessed[i]; !rt.Same(&g) {
				r.unwatch(rt.Name)
				r.notWatched(rt, fmt.Sprintf("go env gave %s, where the environment and go's defaults gave %s when the command started: set %s in the environment for gomaint run to watch it",
					describe(rt), describe(g), envVar(rt.Kind)))
			}
		}
	}
}

// describe says where rt's cache is, or why it has none.
func describe(rt target.Resolved) string {
	switch {
	case rt.Disabled:
		return "off"
	case rt.Path == "":
		return "no cache"
	}
	return rt.Path
}

// envVar is the variable that places a cache of kind k.
func envVar(k config.Kind) string {
	if k == config.Build {
		return "GOCACHE"
	}
	return "GOMODCACHE"
}

// watch starts watching the cache of rt, or says why it cannot.
func (r *runner) watch(rt target.Resolved) {
	root, ok := r.openCache(rt)
	switch {
	case !ok:
	case rt.Kind == config.Build:
		r.watchBuild(rt, root)
	default:
		r.watchMods(rt, root)
	}
}

// unwatch ends the watch of the target called name and releases its lock.
func (r *runner) unwatch(name string) {
	r.builds = slices.DeleteFunc(r.builds, func(b *watchedBuild) bool {
		if b.rt.Name != name {
			return false
		}
		b.ws.Stop()
		b.ws.Close()
		b.ws.Root.Close()
		if b.release != nil {
			b.release()
		}
		return true
	})
	r.mods = slices.DeleteFunc(r.mods, func(m *watchedMods) bool {
		if m.rt.Name != name {
			return false
		}
		m.stop()
		m.m.Close()
		m.root.Close()
		if m.release != nil {
			m.release()
		}
		return true
	})
	r.unwatched = slices.DeleteFunc(r.unwatched, func(c cacheReport) bool { return c.Target == name })
}

// openCache opens a cache to watch; one that cannot be watched is
// reported, never a reason to keep the command from running.
func (r *runner) openCache(rt target.Resolved) (*safefs.Root, bool) {
	switch {
	case rt.Disabled || rt.Unresolved:
		r.notWatched(rt, "no cache (GOCACHE or GOMODCACHE unset or off)")
	case rt.Err != nil:
		r.notWatched(rt, rt.Err.Error())
	case !rt.Exists:
		r.notWatched(rt, "the cache did not exist when the command started: all it holds now, the command wrote")
	default:
		root, err := safefs.OpenRoot(rt.Path)
		if err != nil {
			r.notWatched(rt, err.Error())
			return nil, false
		}
		return root, true
	}
	return nil, false
}

func (r *runner) notWatched(rt target.Resolved, why string) {
	r.unwatched = append(r.unwatched, cacheReport{Target: rt.Name, Kind: string(rt.Kind), Path: rt.Path, NotWatched: why})
}

// lock takes the cache's lock for the run, without waiting: nil when
// another gomaint holds it (a clean), which is said, not fatal.
func (r *runner) lock(rt target.Resolved, root *safefs.Root) func() {
	release, err := lock.Acquire(r.lockDir, root.FD, rt.Name, 0)
	if err != nil {
		safetext.Fprintf(r.stderr, "gomaint run: %s: not holding the cache's lock (%v); a clean may remove entries while the command runs\n", rt.Name, err)
		return nil
	}
	return release
}

// watchBuild starts watching the build cache open at root.
func (r *runner) watchBuild(rt target.Resolved, root *safefs.Root) {
	ws, err := workset.Watch(root)
	if err != nil {
		r.notWatched(rt, err.Error())
		root.Close()
		return
	}
	r.builds = append(r.builds, &watchedBuild{rt: rt, ws: ws})
}
