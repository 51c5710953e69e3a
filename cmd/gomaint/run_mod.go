package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gomaint/gomaint/maint/lock"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/watch"
	"github.com/gomaint/gomaint/maint/workset"
)

// watchedMods is a module cache a run watches: which versions the build
// loaded.
type watchedMods struct {
	rt      target.Resolved
	root    *safefs.Root
	m       *watch.Modules
	start   time.Time
	done    chan error
	release func()
	runErr  error // from stop
}

// stop ends the watch; Used is complete after it.
func (w *watchedMods) stop() {
	w.m.Stop()
	w.runErr = <-w.done
}

// watchMods starts watching the module cache open at root, as
// watchBuild does a build cache.
func (r *runner) watchMods(rt target.Resolved, root *safefs.Root) watched {
	m, err := watch.OpenModules(root)
	if err != nil {
		root.Close()
		return watched{not: notWatched(rt, err.Error())}
	}
	release, warning := r.lock(rt, root)
	w := &watchedMods{rt: rt, root: root, m: m, start: time.Now(), done: make(chan error, 1), release: release}
	go func() { w.done <- m.Run() }()
	return watched{mods: w, warning: warning}
}

// finishMods reports on a module cache, its watch stopped, and prunes the
// versions the run did not use, when asked and when the watch saw
// everything.
func (r *runner) finishMods(ctx context.Context, w *watchedMods, prune, dryRun bool, stdout io.Writer) cacheReport {
	defer w.root.Close()
	used := w.m.Used()
	rep := cacheReport{Target: w.rt.Name, Kind: string(w.rt.Kind), Path: w.rt.Path, VersionsUsed: len(used)}
	incomplete := w.m.Incomplete()
	switch {
	case !prune:
	case w.runErr != nil || incomplete != nil:
		rep.PruneSkipped = fmt.Sprintf("%v: %v", workset.ErrIncomplete, firstErr(incomplete, w.runErr))
	default:
		if !r.relock(w.rt, w.root, &w.release, &rep) {
			break
		}
		res, err := workset.PruneModules(ctx, w.root, used, w.start, pruneOptions(w.rt.Name, dryRun, stdout))
		rep.Prune = res
		if err != nil {
			rep.PruneSkipped = err.Error()
		}
	}
	if w.release != nil {
		w.release()
	}
	return rep
}

// relock takes the cache's lock for the prune when the run did not hold
// it, waiting as a clean would; false (and why, in rep) when it cannot.
func (r *runner) relock(rt target.Resolved, root *safefs.Root, release *func(), rep *cacheReport) bool {
	if *release != nil {
		return true
	}
	rel, err := lock.Acquire(r.lockDir, root.FD, rt.Name, lock.Wait)
	if err != nil {
		rep.PruneSkipped = err.Error()
		return false
	}
	*release = rel
	return true
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
