// Package clean runs trims over the configured targets: it resolves each
// target, takes its lock, trims it under its policy and emits one TRIM
// event per target. The CLI, the timer and the daemon all come here.
package clean

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/lock"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/trim"
)

// Request is one clean.
type Request struct {
	Config  *config.Config
	Environ []string
	DryRun  bool
	// MaxSize and MaxAge override every target's policy when set.
	MaxSize int64
	MaxAge  time.Duration
	Sink    journal.Sink
	Removed func(target string, r trim.Removal)
	// LockDir holds the per-target locks. A run waits lock.Wait for
	// another holder, or not at all with NoWait: a trim for a limit while
	// another run holds the cache, which is trimming it already.
	LockDir string
	NoWait  bool
	Workers int
	// Resolved, when set, are the targets to clean, already resolved (the
	// daemon resolves once per configuration); else Config's are resolved.
	Resolved []target.Resolved
	// Trigger says what started the clean, for the event: "cli" (a person,
	// or the timer's `gomaint clean` without a daemon), "control" (handed
	// to the daemon), "schedule" or "limit" (the daemon's own).
	Trigger string
	// Progress, when set, is called as each target's trim starts; the
	// function it returns is called when it ends.
	Progress func(target string, entries *atomic.Int64) (done func())
}

// Outcome is one target's result.
type Outcome struct {
	Target string `json:"target"`
	Kind   string `json:"kind"`
	Path   string `json:"path"`
	*trim.Result
	// Error says why the target could not be trimmed at all.
	Error string `json:"error,omitempty"`
}

// OK reports whether the target ended within its limits.
func (o Outcome) OK() bool {
	return o.Error == "" && o.Result != nil && o.WithinLimit && o.Result.Failed == 0
}

// Run trims every target of the configuration.
func Run(ctx context.Context, req Request) []Outcome {
	resolved := req.Resolved
	if resolved == nil {
		resolved, _ = target.Resolve(ctx, req.Config, req.Environ)
	}
	var out []Outcome
	for _, rt := range resolved {
		o := Outcome{Target: rt.Name, Kind: string(rt.Kind), Path: rt.Path}
		res, err := one(ctx, req, rt)
		if err != nil {
			o.Error = err.Error()
		}
		o.Result = res
		emit(req, o)
		out = append(out, o)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

func one(ctx context.Context, req Request, rt target.Resolved) (*trim.Result, error) {
	switch {
	case rt.Disabled || rt.Unresolved:
		return nil, fmt.Errorf("no cache to clean (GOCACHE/GOMODCACHE unset or off)")
	case rt.Err != nil:
		return nil, rt.Err
	case !rt.Exists:
		return &trim.Result{DryRun: req.DryRun, WithinLimit: true, Policy: "cache does not exist yet"}, nil
	}
	p := trim.PolicyOf(rt.Target.Overridden(req.MaxSize, req.MaxAge))
	root, err := safefs.OpenRoot(rt.Path)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	release, err := lock.Acquire(req.LockDir, root.FD, rt.Name, lockWait(req.NoWait))
	if err != nil {
		return nil, err
	}
	defer release()
	opt := trim.Options{DryRun: req.DryRun, Now: time.Now(), Workers: req.Workers, Entries: &atomic.Int64{}}
	if req.Progress != nil {
		defer req.Progress(rt.Name, opt.Entries)()
	}
	if req.Removed != nil {
		opt.Removed = func(r trim.Removal) { req.Removed(rt.Name, r) }
	}
	if rt.Kind == config.Build {
		return trim.Build(ctx, root, p, opt)
	}
	sroot, err := scan.RootOf(root.FD)
	if err != nil {
		return nil, err
	}
	return trim.Mod(ctx, root, p, opt, scan.DescribeFS(sroot).Has("noatime"))
}

func emit(req Request, o Outcome) {
	if req.Sink == nil {
		return
	}
	f := map[string]string{"GOMAINT_TARGET": o.Target, "GOMAINT_CACHE_KIND": o.Kind, "GOMAINT_CACHE_PATH": o.Path,
		"GOMAINT_DRY_RUN": journal.Bool(req.DryRun)}
	if req.Trigger != "" {
		f["GOMAINT_TRIGGER"] = req.Trigger
	}
	if o.Result == nil {
		f["GOMAINT_ERROR"] = o.Error
		journal.Emit(req.Sink, journal.Event{Type: journal.Trim, Priority: journal.Err,
			Message: fmt.Sprintf("clean of %s cache %s failed: %s", o.Kind, o.Path, o.Error), Fields: f})
		return
	}
	r := o.Result
	for k, v := range map[string]int64{"GOMAINT_FREED_BYTES": r.FreedBytes, "GOMAINT_FILES": r.Files, "GOMAINT_VERSIONS": r.Versions,
		"GOMAINT_UNITS": r.Units, "GOMAINT_SKIPPED": r.Skipped, "GOMAINT_FAILED": r.Failed, "GOMAINT_DISK_BYTES_BEFORE": r.DiskBytesBefore,
		"GOMAINT_DISK_BYTES": r.DiskBytesAfter, "GOMAINT_CUTOFF": r.CutoffUnix, "GOMAINT_DURATION_MSEC": r.DurationMS} {
		f[k] = journal.Int(v)
	}
	f["GOMAINT_POLICY"] = r.Policy
	f["GOMAINT_FREE_BYTES"] = journal.Int(r.FreeBefore)
	if r.MinFree > 0 {
		f["GOMAINT_MIN_FREE"] = journal.Int(r.MinFree)
	}
	if r.Reason != "" {
		f["GOMAINT_REASON"] = r.Reason
	}
	if r.TooDeep > 0 {
		f["GOMAINT_TOO_DEEP"] = journal.Int(r.TooDeep) // units measured in part, removed whole
	}
	pri := journal.Info
	verb := "removed"
	if req.DryRun {
		verb = "would remove"
	}
	msg := fmt.Sprintf("%s cache %s: %s %s in %d files (%d module versions); now %s", o.Kind, o.Path, verb,
		config.FormatSize(r.FreedBytes), r.Files, r.Versions, config.FormatSize(r.DiskBytesAfter))
	if r.MinFree > r.FreeBefore {
		msg += fmt.Sprintf("; %s was free, below min_free %s", config.FormatSize(r.FreeBefore), config.FormatSize(r.MinFree))
	}
	if r.Blocked != "" {
		f["GOMAINT_BLOCKED"] = r.Blocked
		msg += "; limit not reached: " + r.Blocked
		pri = journal.Warning
	}
	if o.Error != "" || r.Failed > 0 {
		f["GOMAINT_ERROR"] = o.Error + r.FirstError
		msg += "; errors: " + o.Error + r.FirstError
		pri = journal.Err
	}
	journal.Emit(req.Sink, journal.Event{Type: journal.Trim, Priority: pri, Message: msg, Fields: f})
}

// MustFree is how many bytes target t, a cache at path, must free now to
// bring its file system back to the target's min_free: 0 when it is there
// or there is no floor. It reads statfs only, so the daemon may ask it as
// often as space changes, and start a clean when it is above 0.
func MustFree(t config.Target, path string) (int64, error) {
	fd, err := scan.OpenDir(path)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return trim.FreeDeficit(t.MinFree.Or(t.Kind), &fs), nil
}

func lockWait(noWait bool) time.Duration {
	if noWait {
		return 0
	}
	return lock.Wait
}
