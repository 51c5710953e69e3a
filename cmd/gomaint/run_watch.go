package main

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/gomaint/gomaint/maint/buildfail"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/lock"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/workset"
)

// watchAll watches the cache of every target and takes its lock, each
// target on a goroutine of its own, at the paths the environment and go's
// defaults give (target.Native), which it returns. go env, which would
// take milliseconds before the command, confirms them later (askGoEnv).
func (r *runner) watchAll(cfg *config.Config, environ []string) []target.Resolved {
	guessed := target.Native(cfg, environ)
	watched := make([]watched, len(guessed))
	var wg sync.WaitGroup
	for i, rt := range guessed {
		wg.Go(func() { watched[i] = r.watch(rt) })
	}
	wg.Wait()
	for _, w := range watched {
		if w.warning != "" {
			safetext.Fprintln(r.stderr, w.warning)
		}
		switch {
		case w.build != nil:
			r.builds = append(r.builds, w.build)
		case w.mods != nil:
			r.mods = append(r.mods, w.mods)
		default:
			r.unwatched = append(r.unwatched, w.not)
		}
	}
	return guessed
}

// askGoEnv asks go env, once the command has started, where the caches
// are: its answer gives lines, the failure scanner, its env. confirm, called once the command
// has ended, waits for it and drops the record of a cache go env placed
// elsewhere than guessed (a go.env of go's own that sets GOCACHE, say),
// since that one went unwatched.
func (r *runner) askGoEnv(ctx context.Context, cfg *config.Config, environ []string, lines *buildfail.Scanner, guessed []target.Resolved) (confirm func()) {
	asked := make(chan []target.Resolved, 1)
	go func() {
		// go env, forked from this thread, inherits its nice 10: it runs
		// mostly on what CPU the command leaves, yet still gets a share
		// when it leaves none (the scanner's lines wait for it).
		_ = scan.LowerThread()
		resolved, env := target.Resolve(ctx, cfg, environ)
		lines.SetEnv(buildfail.Env{GOCACHE: env.GOCACHE, GOMODCACHE: env.GOMODCACHE, GOROOT: env.GOROOT, TempDir: goTempDir()})
		asked <- resolved
	}()
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

// watched is one target's watch, or why it has none.
type watched struct {
	build   *watchedBuild
	mods    *watchedMods
	not     cacheReport
	warning string // why its lock is not held
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

// watch starts watching the cache of rt and takes its lock, or says why
// it cannot.
func (r *runner) watch(rt target.Resolved) watched {
	root, why := openCache(rt)
	switch {
	case root == nil:
		return watched{not: notWatched(rt, why)}
	case rt.Kind == config.Build:
		return r.watchBuild(rt, root)
	}
	return r.watchMods(rt, root)
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

// openCache opens a cache to watch, or says why it cannot: that is
// reported, never a reason to keep the command from running.
func openCache(rt target.Resolved) (*safefs.Root, string) {
	switch {
	case rt.Disabled || rt.Unresolved:
		return nil, "no cache (GOCACHE or GOMODCACHE unset or off)"
	case rt.Err != nil:
		return nil, rt.Err.Error()
	case !rt.Exists:
		return nil, "the cache did not exist when the command started: all it holds now, the command wrote"
	}
	root, err := safefs.OpenRoot(rt.Path)
	if err != nil {
		return nil, err.Error()
	}
	return root, ""
}

func notWatched(rt target.Resolved, why string) cacheReport {
	return cacheReport{Target: rt.Name, Kind: string(rt.Kind), Path: rt.Path, NotWatched: why}
}

func (r *runner) notWatched(rt target.Resolved, why string) {
	r.unwatched = append(r.unwatched, notWatched(rt, why))
}

// lock takes the cache's lock for the run, without waiting: no release
// when another gomaint holds it (a clean), which the warning says; it is
// not fatal.
func (r *runner) lock(rt target.Resolved, root *safefs.Root) (release func(), warning string) {
	release, err := lock.Acquire(r.lockDir, root.FD, rt.Name, 0)
	if err != nil {
		return nil, fmt.Sprintf("gomaint run: %s: not holding the cache's lock (%v); a clean may remove entries while the command runs", rt.Name, err)
	}
	return release, ""
}

// watchBuild starts watching the build cache open at root.
func (r *runner) watchBuild(rt target.Resolved, root *safefs.Root) watched {
	ws, err := workset.Watch(root)
	if err != nil {
		root.Close()
		return watched{not: notWatched(rt, err.Error())}
	}
	release, warning := r.lock(rt, root)
	return watched{build: &watchedBuild{rt: rt, ws: ws, release: release}, warning: warning}
}
