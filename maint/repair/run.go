package repair

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/lock"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/target"
)

// Request is one `gomaint fix`.
type Request struct {
	Config  *config.Config
	Environ []string
	DryRun  bool
	Sink    journal.Sink
	Changed func(target string, c Change)
	// LockDir holds the per-target locks; a fix waits lock.Wait for
	// another holder.
	LockDir string
	Workers int
	// StateDir holds what earlier verifications found unchanged, for the
	// verification a remove_modified target gets ("": hash every version).
	StateDir string
}

// Outcome is one target's repair.
type Outcome struct {
	Target string `json:"target"`
	Kind   string `json:"kind"`
	Path   string `json:"path"`
	Owner  uint32 `json:"owner_uid"`
	*Result
	// RemoveModified is the target's remove_modified; Modified is what fix
	// did about versions that fail verification when it is set.
	RemoveModified bool      `json:"remove_modified"`
	Modified       *Modified `json:"modified,omitempty"`
	Error          string    `json:"error,omitempty"`
}

// LeftAlone counts what could not or must not be repaired.
func (o Outcome) LeftAlone() int64 {
	var n int64
	if o.Modified != nil {
		n = o.Modified.Busy.Count + o.Modified.Failed.Count
	}
	if o.Result == nil {
		return n
	}
	return n + o.NeedRoot + o.Hardlinked.Count + o.Links.Count + o.Special.Count + o.Mounts.Count + o.Unreadable.Count + o.TooDeep.Count + o.Failed.Count
}

// Run repairs every target: in the user scope the caller owns the caches;
// in the system scope, whoever owns each cache's root.
func Run(ctx context.Context, req Request) []Outcome {
	resolved, env := target.Resolve(ctx, req.Config, req.Environ)
	var out []Outcome
	for _, rt := range resolved {
		o := Outcome{Target: rt.Name, Kind: string(rt.Kind), Path: rt.Path, RemoveModified: rt.RemoveModified}
		res, mod, owner, err := one(ctx, req, rt, env)
		o.Result, o.Modified, o.Owner = res, mod, owner
		if err != nil {
			o.Error = err.Error()
		}
		emit(req, o)
		out = append(out, o)
	}
	return out
}

func one(ctx context.Context, req Request, rt target.Resolved, env discover.Env) (*Result, *Modified, uint32, error) {
	switch {
	case rt.Disabled || rt.Unresolved:
		return nil, nil, 0, fmt.Errorf("no cache to repair (GOCACHE/GOMODCACHE unset or off)")
	case rt.Err != nil:
		return nil, nil, 0, rt.Err
	case !rt.Exists:
		return &Result{DryRun: req.DryRun}, nil, 0, nil
	}
	root, err := safefs.OpenRoot(rt.Path)
	if err != nil {
		return nil, nil, 0, err
	}
	defer root.Close()
	release, err := lock.Acquire(req.LockDir, root.FD, rt.Name, lock.Wait)
	if err != nil {
		return nil, nil, 0, err
	}
	defer release()
	opt := Options{Build: rt.Kind == config.Build, DryRun: req.DryRun, Workers: req.Workers,
		Owner: uint32(os.Getuid()), Group: uint32(os.Getgid()), ModWritable: strings.Contains(env.GOFLAGS, "-modcacherw")}
	if req.Config.Scope == config.System {
		sroot, err := scan.RootOf(root.FD)
		if err != nil {
			return nil, nil, 0, err
		}
		opt.Owner, opt.Group = sroot.Stat.Uid, sroot.Stat.Gid
	} else if err := userOwner(req, rt, root, &opt); err != nil {
		return nil, nil, 0, err
	}
	if err := ownerOf(rt.Target, &opt); err != nil {
		return nil, nil, 0, err
	}
	opt.Changed = func(c Change) {
		if req.Sink != nil && !req.DryRun { // per-change detail, at debug level
			journal.Emit(req.Sink, journal.Event{Type: journal.Repair, Priority: journal.Debug,
				Message: fmt.Sprintf("%s %s: %s -> %s", c.What, c.Path, c.From, c.To),
				Fields:  map[string]string{"GOMAINT_TARGET": rt.Name, "GOMAINT_CACHE_PATH": rt.Path, "GOMAINT_PATH": c.Path, "GOMAINT_CHANGE": c.What}})
		}
		if req.Changed != nil {
			req.Changed(rt.Name, c)
		}
	}
	// Versions that go before the repair: nothing of theirs needs mending.
	var mod *Modified
	var modErr error
	if rt.RemoveModified {
		mod, modErr = removeModified(ctx, req, rt, root, opt.Changed)
	}
	res, err := Fix(ctx, root, opt)
	return res, mod, opt.Owner, errors.Join(modErr, err)
}

func emit(req Request, o Outcome) {
	if req.Sink == nil {
		return
	}
	f := map[string]string{"GOMAINT_TARGET": o.Target, "GOMAINT_CACHE_KIND": o.Kind, "GOMAINT_CACHE_PATH": o.Path,
		"GOMAINT_DRY_RUN": map[bool]string{false: "0", true: "1"}[req.DryRun]}
	if o.Result == nil {
		f["GOMAINT_ERROR"] = o.Error
		journal.Emit(req.Sink, journal.Event{Type: journal.Repair, Priority: journal.Err,
			Message: fmt.Sprintf("repair of %s cache %s failed: %s", o.Kind, o.Path, o.Error), Fields: f})
		return
	}
	f["GOMAINT_OWNERS"] = journal.Int(o.Owners)
	f["GOMAINT_MODES"] = journal.Int(o.Modes)
	f["GOMAINT_LEFT_ALONE"] = journal.Int(o.LeftAlone())
	f["GOMAINT_NEED_ROOT"] = journal.Int(o.NeedRoot)
	f["GOMAINT_HARDLINKED"] = journal.Int(o.Hardlinked.Count)
	f["GOMAINT_SAMPLE"] = strings.Join(o.Samples, " ")
	removed := ""
	if o.Modified != nil {
		var mods []string
		for _, r := range o.Modified.Removed {
			mods = append(mods, r.Module)
		}
		f["GOMAINT_REMOVED"] = journal.Int(int64(len(mods)))
		f["GOMAINT_REMOVED_MODULES"] = strings.Join(mods, " ")
		removed = fmt.Sprintf("; %s %d module versions that failed verification", map[bool]string{false: "removed", true: "would remove"}[req.DryRun], len(mods))
	}
	pri := journal.Info
	if o.LeftAlone() > 0 || o.Error != "" {
		pri = journal.Warning
	}
	verb := "repaired"
	if req.DryRun {
		verb = "would repair"
	}
	journal.Emit(req.Sink, journal.Event{Type: journal.Repair, Priority: pri, Fields: f,
		Message: fmt.Sprintf("%s cache %s: %s %d owners and %d modes%s; %d entries left alone", o.Kind, o.Path, verb, o.Owners, o.Modes, removed, o.LeftAlone())})
}

// userOwner decides the owner of a user-scope cache (target.UserOwner).
// As root, the user's own configuration and environment chose the cache,
// so it may be neither shared (a group's access is for --system to
// change) nor configured for anyone but the user it belongs to.
func userOwner(req Request, rt target.Resolved, root *safefs.Root, opt *Options) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if rt.Shared() {
		return fmt.Errorf("%s is a shared cache: as root, repair it with --system (the user scope gives a cache only to its own user)", rt.Path)
	}
	uid, gid, err := target.UserOwner(root.FD, rt.Path, discover.EnvFrom(req.Environ))
	if err != nil {
		return err
	}
	opt.Owner, opt.Group = uid, gid
	if rt.Owner == "" {
		return nil
	}
	if u, err := user.Lookup(rt.Owner); err != nil || u.Uid != strconv.Itoa(int(uid)) {
		return fmt.Errorf("%s belongs to %s, not to the configured owner %q: as root, the user scope gives a cache only to its own user; use --system",
			rt.Path, target.UserName(uid), rt.Owner)
	}
	return nil
}

// ownerOf applies a target's configured owner (private) or group (shared).
func ownerOf(t config.Target, opt *Options) error {
	if t.Shared() {
		g, err := user.LookupGroup(t.Group)
		if err != nil {
			return fmt.Errorf("group %q: %w", t.Group, err)
		}
		gid, _ := strconv.ParseUint(g.Gid, 10, 32)
		opt.Shared, opt.Group = true, uint32(gid)
		return nil
	}
	if t.Owner == "" {
		return nil
	}
	u, err := user.Lookup(t.Owner)
	if err != nil {
		return fmt.Errorf("owner %q: %w", t.Owner, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	opt.Owner, opt.Group = uint32(uid), uint32(gid)
	return nil
}
