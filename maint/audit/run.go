// Package audit runs the checks over every target and reports findings.
//
// Run is the one entry point every front door uses: it resolves targets,
// checks GOROOT, walks each cache once (read-only), runs the registered
// checks, and emits one audit event per cache and one event per finding.
package audit

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/facts"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/paths"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/tmpfiles"
	"github.com/gomaint/gomaint/maint/verify"
)

// SchemaVersion is the version of the JSON report; it changes only when a
// field changes meaning or goes away.
const SchemaVersion = 2 // 2: "bytes" became apparent_bytes (README, "Changes")

// Request is one audit.
type Request struct {
	Config  *config.Config
	Environ []string // the environment whose caches are audited
	// GOROOT and ExpectVersion override the configuration when set.
	GOROOT, ExpectVersion string
	Sink                  journal.Sink
	// Progress, when set, is called as each cache's walk starts; the
	// function it returns is called when the walk ends.
	Progress func(target string, entries *atomic.Int64) (done func())
	Workers  int
	// StateDir holds the daemon's saved status (CACHE_WIPED compares
	// with it); "" is paths.StateDir's.
	StateDir string
}

// Report is the result of an audit; its JSON form is the stable schema.
type Report struct {
	Version  int           `json:"version"`
	Scope    string        `json:"scope"`
	Config   string        `json:"config"`
	GOROOT   goroot.Result `json:"goroot"`
	Go       GoEnv         `json:"go"`
	Caches   []CacheReport `json:"caches"`
	Findings []Finding     `json:"findings"`
	// GOROOTRequired makes a bad GOROOT fatal (exit 78).
	GOROOTRequired bool `json:"goroot_required"`
}

// GoEnv is what discovery found.
type GoEnv struct {
	Source      string `json:"source"` // "go env" or "defaults"
	GoCmd       string `json:"gocmd,omitempty"`
	GOFLAGS     string `json:"goflags,omitempty"`
	GOTOOLCHAIN string `json:"gotoolchain,omitempty"`
	GOENV       string `json:"goenv,omitempty"`
	Error       string `json:"error,omitempty"`
}

// CacheReport is one cache in the report.
type CacheReport struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Path     string `json:"path"`
	Owner    string `json:"owner"`
	OwnerUID uint32 `json:"owner_uid"`
	Exists   bool   `json:"exists"`
	*facts.Facts
	FS         *scan.FS `json:"fs,omitempty"`
	LimitBytes int64    `json:"limit_bytes"`
	// LimitAuto: the limit is max_size "auto", resolved for the cache's
	// file system.
	LimitAuto bool  `json:"limit_auto,omitempty"`
	ScanMS    int64 `json:"scan_ms"`
}

// GOROOTFinding is the finding of a GOROOT check that failed.
func GOROOTFinding(r goroot.Result, required bool) Finding {
	return Finding{Code: r.Code, Severity: r.Severity(required), Path: r.Path, Detail: r.Reason, Fix: r.Fix}
}

// VerifyFinding is a verification's finding as a report's, for the
// daemon's status and alerts.
func VerifyFinding(f verify.Finding) Finding {
	return Finding{Code: f.Code, Severity: f.Severity, Cache: f.Cache, Path: f.Path, Detail: f.Module + ": " + f.Detail, Fix: f.Fix}
}

// Worst returns the highest severity among the findings, and false if none.
func (r *Report) Worst() (finding.Severity, bool) {
	return finding.Worst(func(yield func(finding.Severity) bool) {
		for _, f := range r.Findings {
			if !yield(f.Severity) {
				return
			}
		}
	})
}

// Run audits every target of the request's configuration.
func Run(ctx context.Context, req Request) *Report {
	cfg := req.Config
	now := time.Now()
	getenv := discover.EnvFrom(req.Environ)
	resolved, env := target.Resolve(ctx, cfg, req.Environ)

	// GOROOT and the tmpfiles rules are independent of the walks.
	var rootRes goroot.Result
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rootRes = checkGOROOT(ctx, req, env)
	}()
	rules := TmpfilesRules(ctx, cfg.Scope, getenv, req.Environ)

	stateDir := req.StateDir
	if stateDir == "" {
		stateDir = paths.StateDir(cfg.Scope == config.System, getenv)
	}
	saved := sync.OnceValue(func() *savedStatus { return loadSaved(stateDir) })
	c := &Context{Ctx: ctx, Now: now, Scope: cfg.Scope, Tmpfiles: rules, Getenv: getenv, Saved: saved,
		Origin: func(key string) discover.Origin { return discover.Where(ctx, key, req.Environ, env.GOROOT) }}
	rep := &Report{Version: SchemaVersion, Scope: cfg.Scope.String(), Config: cfg.File, GOROOTRequired: cfg.GOROOT.Required,
		Go: GoEnv{Source: env.Source, GoCmd: env.GoCmd, GOFLAGS: env.GOFLAGS, GOTOOLCHAIN: env.GOTOOLCHAIN, GOENV: env.GOENV}}
	if env.GoErr != nil {
		rep.Go.Error = env.GoErr.Error()
	}
	if rep.Config == "" {
		rep.Config = "(built-in defaults)"
	}
	var caches []*Cache
	for _, rt := range resolved {
		t := rt.Target
		cache := &Cache{Target: t, Path: rt.Path, Disabled: rt.Disabled, Unresolved: rt.Unresolved, Exists: rt.Exists,
			ScanErr: rt.Err, Owner: uint32(os.Getuid())}
		start := time.Now()
		gather(ctx, cache, req, now)
		caches = append(caches, cache)
		cr := CacheReport{Name: t.Name, Kind: string(t.Kind), Path: cache.Path, Owner: userName(cache.Owner), OwnerUID: cache.Owner,
			Exists: cache.Exists, Facts: cache.Facts, LimitBytes: int64(t.MaxSize), LimitAuto: rt.AutoLimit, ScanMS: time.Since(start).Milliseconds()}
		if cache.Facts != nil {
			cr.FS = &cache.FS
		}
		rep.Caches = append(rep.Caches, cr)
	}
	wg.Wait()
	rep.GOROOT = rootRes
	if !rootRes.OK {
		rep.Findings = append(rep.Findings, GOROOTFinding(rootRes, cfg.GOROOT.Required))
	}
	for _, cache := range caches {
		rep.Findings = append(rep.Findings, runChecks(c, cache)...)
	}
	emit(req.Sink, rep, caches)
	return rep
}

// CheckGOROOT checks the GOROOT that cfg and environ give, exactly as an
// audit does; env is what target.Resolve discovered.
func CheckGOROOT(ctx context.Context, cfg *config.Config, environ []string, env discover.Env) goroot.Result {
	return checkGOROOT(ctx, Request{Config: cfg, Environ: environ}, env)
}

func checkGOROOT(ctx context.Context, req Request, env discover.Env) goroot.Result {
	return goroot.Check(ctx, goroot.Configured(req.Config.GOROOT, req.GOROOT, req.ExpectVersion, req.Environ,
		func() discover.Env { return env }))
}

// gather walks an existing cache and fills its facts.
func gather(ctx context.Context, cache *Cache, req Request, now time.Time) {
	if !cache.Exists || cache.ScanErr != nil {
		return
	}
	fd, root, err := scan.OpenRoot(cache.Path)
	if err != nil {
		cache.ScanErr = err
		return
	}
	defer unix.Close(fd)
	if req.Config.Scope == config.System {
		cache.Owner = root.Stat.Uid // a system cache belongs to whoever owns its root
	} else if uid, _, err := target.UserOwner(fd, cache.Path, discover.EnvFrom(req.Environ)); err == nil {
		cache.Owner = uid // as fix judges it: under sudo, the user's, not root's
	}
	cache.FS = scan.DescribeFS(root)
	var entries atomic.Int64
	if req.Progress != nil {
		defer req.Progress(cache.Target.Name, &entries)()
	}
	opt := facts.Options{Build: cache.Target.Kind == config.Build, Writer: identity(cache.Owner), Now: now,
		Workers: req.Workers, Entries: &entries}
	if cache.Target.Shared() {
		g, err := user.LookupGroup(cache.Target.Group)
		if err != nil {
			cache.ScanErr = fmt.Errorf("group %q: %w", cache.Target.Group, err)
			return
		}
		gid, _ := strconv.ParseUint(g.Gid, 10, 32)
		cache.Group = g
		// Whoever builds, the group must be able to write: judge by it alone.
		opt.Writer = facts.Identity{UID: ^uint32(0) - 1, GIDs: []uint32{uint32(gid)}}
		opt.Shared, opt.Group = true, uint32(gid)
	}
	f, err := facts.Gather(ctx, fd, root, opt)
	cache.Facts, cache.ScanErr = f, err
}

// identity returns uid with its groups: the process's own when it is the
// caller, else from the group database.
func identity(uid uint32) facts.Identity {
	id := facts.Identity{UID: uid}
	if int(uid) == os.Getuid() {
		id.GIDs = append(id.GIDs, uint32(os.Getgid()))
		if gs, err := os.Getgroups(); err == nil {
			for _, g := range gs {
				id.GIDs = append(id.GIDs, uint32(g))
			}
		}
		return id
	}
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		if gs, err := u.GroupIds(); err == nil {
			for _, g := range gs {
				if n, err := strconv.ParseUint(g, 10, 32); err == nil {
					id.GIDs = append(id.GIDs, uint32(n))
				}
			}
		}
	}
	return id
}

// userName returns "name" for a uid, or "uid N" when it has no name.
func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(int(uid))
}

// TmpfilesRules loads the tmpfiles.d rules in force in the background, and
// returns a function that waits for them.
func TmpfilesRules(ctx context.Context, scope config.Scope, getenv discover.Getenv, environ []string) func() ([]tmpfiles.Rule, error) {
	var rules []tmpfiles.Rule
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		rules, err = tmpfiles.Load(ctx, false, tmpfiles.SystemSpecifiers(), environ)
		if err != nil || scope != config.User {
			return
		}
		spec := tmpfiles.UserSpecifiers(getenv("HOME"), paths.CacheHome(getenv), paths.ConfigHome(getenv), paths.RuntimeHome(getenv))
		if user, uerr := tmpfiles.Load(ctx, true, spec, environ); uerr == nil {
			rules = append(rules, user...)
		}
	}()
	return func() ([]tmpfiles.Rule, error) {
		<-done
		return rules, err
	}
}
