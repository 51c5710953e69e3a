// Package target turns configured targets into cache paths, resolved as the
// go command resolves them, so that every front door agrees on them.
package target

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/scan"
)

// Resolved is a target with its cache path.
type Resolved struct {
	config.Target
	// Path is the cache root's real path, free of symbolic links (see
	// walk for which links are followed); empty when Disabled or
	// Unresolved.
	Path string
	// Disabled: GOCACHE=off was set. Unresolved: no path could be derived.
	Disabled, Unresolved bool
	// Exists is false for a cache go has not created yet.
	Exists bool
	// AutoLimit: max_size was "auto" and MaxSize is what it came to here.
	AutoLimit bool
	// Err is why the path could not be examined; a *LinkError when it
	// passes through a link that someone other than root could have made.
	Err error
}

// Resolve resolves every target of cfg for the environment environ, with
// the settings go env gives.
func Resolve(ctx context.Context, cfg *config.Config, environ []string) ([]Resolved, discover.Env) {
	env := discover.Resolve(ctx, environ)
	return with(cfg, env, discover.Native(discover.EnvFrom(environ))), env
}

// Native resolves every target of cfg for the environment environ with the
// settings computed as go would (discover.Native), without running go: at
// once, and what go env gives unless a go.env of go's own says otherwise.
func Native(cfg *config.Config, environ []string) []Resolved {
	native := discover.Native(discover.EnvFrom(environ))
	return with(cfg, native, native)
}

func with(cfg *config.Config, env, native discover.Env) []Resolved {
	out := make([]Resolved, len(cfg.Targets))
	for i, t := range cfg.Targets {
		out[i] = resolve(t, env, native)
		out[i].resolveLimit()
	}
	return out
}

// Same reports whether r and o name the same cache in the same state.
func (r *Resolved) Same(o *Resolved) bool {
	errText := func(e error) string {
		if e == nil {
			return ""
		}
		return e.Error()
	}
	return r.Name == o.Name && r.Path == o.Path && r.Exists == o.Exists && r.Disabled == o.Disabled &&
		r.Unresolved == o.Unresolved && errText(r.Err) == errText(o.Err)
}

// resolve: native tells a GOCACHE=off that someone set from one go derived
// for lack of HOME.
func resolve(t config.Target, env, native discover.Env) Resolved {
	r := Resolved{Target: t, Path: t.Path}
	if r.Path == "" {
		if t.Kind == config.Build {
			r.Path = env.GOCACHE
		} else {
			r.Path = env.GOMODCACHE
		}
	}
	switch {
	case t.Kind == config.Build && r.Path == "off":
		r.Disabled = native.GOCACHE == "off"
		r.Unresolved = !r.Disabled
		r.Path = ""
		return r
	case r.Path == "" || !filepath.IsAbs(r.Path):
		r.Unresolved, r.Path = true, ""
		return r
	}
	real, exists, err := walk(r.Path, uint32(os.Geteuid()))
	if err != nil {
		var le *LinkError
		r.Err, r.Exists = err, errors.As(err, &le) // a refused link is there, not yet to be created
		return r
	}
	r.Path, r.Exists = real, exists
	return r
}

// resolveLimit turns max_size "auto" into a share of the file system the
// cache is on, or will be on once go creates it.
func (r *Resolved) resolveLimit() {
	if r.MaxSize != config.AutoSize {
		return
	}
	var total int64
	if r.Path != "" {
		if fs, _, err := scan.NearestFS(r.Path); err == nil {
			total = fs.TotalBytes
		}
	}
	r.MaxSize, r.AutoLimit = config.Size(config.AutoLimit(total)), true
}

// Select narrows cfg to the target called name; false if there is none.
func Select(cfg *config.Config, name string) bool {
	for _, t := range cfg.Targets {
		if t.Name == name {
			cfg.Targets = []config.Target{t}
			return true
		}
	}
	return false
}
