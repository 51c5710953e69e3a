package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/target"
)

// Request is one verification of a configuration's module caches.
type Request struct {
	Config  *config.Config
	Environ []string // the environment whose caches are verified
	Sink    journal.Sink
	Full    bool
	Readers int
	// StateDir holds what earlier runs verified; "" keeps no state (every
	// run is full). KeepState reads it but writes nothing: a dry run
	// changes no file, gomaint's own included.
	StateDir  string
	KeepState bool
}

// Report is a verification's result; its JSON form is the command's.
type Report struct {
	Version  int            `json:"version"`
	Full     bool           `json:"full"`
	Caches   []*CacheResult `json:"caches"`
	Findings []Finding      `json:"findings"`
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

// Failed reports whether a cache could not be verified at all.
func (r *Report) Failed() bool {
	for _, c := range r.Caches {
		if c.Error != "" {
			return true
		}
	}
	return false
}

// Run verifies every module-cache target of the configuration (build
// caches hold nothing with a recorded hash) and journals one event per
// finding and one verify event per cache.
func Run(ctx context.Context, req Request) *Report {
	rep := &Report{Version: 1, Full: req.Full, Caches: []*CacheResult{}, Findings: []Finding{}}
	st := loadState(req.StateDir)
	resolved, _ := target.Resolve(ctx, req.Config, req.Environ)
	for _, rt := range resolved {
		if rt.Kind != config.Mod || rt.Disabled || rt.Unresolved {
			continue
		}
		start := time.Now()
		res, fs, err := one(ctx, rt, req, st.Caches[rt.Path])
		res.DurationMS = time.Since(start).Milliseconds()
		if err != nil {
			res.Error = err.Error()
		} else if rt.Exists {
			st.Caches[rt.Path] = res.Verified
		}
		rep.Caches = append(rep.Caches, res)
		rep.Findings = append(rep.Findings, fs...)
		emit(req.Sink, res, fs)
	}
	if req.KeepState {
		return rep
	}
	if err := st.save(req.StateDir); err != nil && req.Sink != nil {
		journal.Emit(req.Sink, journal.Event{Type: journal.VerifyIncomplete, Priority: journal.Warning,
			Message: fmt.Sprintf("verify: %v; the next run hashes every version again", err)})
	}
	return rep
}

func one(ctx context.Context, rt target.Resolved, req Request, known map[string]Entry) (*CacheResult, []Finding, error) {
	empty := &CacheResult{Target: rt.Name, Path: rt.Path}
	switch {
	case rt.Err != nil:
		return empty, nil, rt.Err
	case !rt.Exists:
		return empty, nil, nil // nothing downloaded yet
	}
	root, err := safefs.OpenRoot(rt.Path)
	if err != nil {
		return empty, nil, err
	}
	defer root.Close()
	res, fs, err := Cache(ctx, root, Options{Target: rt.Name, Full: req.Full, Readers: req.Readers, Known: known})
	if res == nil {
		return empty, nil, err
	}
	return res, fs, err
}

func emit(sink journal.Sink, res *CacheResult, fs []Finding) {
	if sink == nil {
		return
	}
	cache := map[string]string{"GOMAINT_TARGET": res.Target, "GOMAINT_CACHE_KIND": string(config.Mod), "GOMAINT_CACHE_PATH": res.Path}
	for _, f := range fs {
		fields := map[string]string{"GOMAINT_FINDING": f.Code.String(), "GOMAINT_SEVERITY": f.Severity.String(),
			"GOMAINT_PATH": f.Path, "GOMAINT_MODULE": f.Module, "GOMAINT_FIX": f.Fix}
		for k, v := range cache {
			fields[k] = v
		}
		journal.Emit(sink, journal.Event{Type: f.Code.Type(), Priority: f.Severity.Priority(),
			Message: f.Code.String() + ": " + f.Module + ": " + f.Detail, Fields: fields})
	}
	fields := map[string]string{"GOMAINT_VERSIONS": journal.Int(res.Versions), "GOMAINT_HASHED": journal.Int(res.Hashed),
		"GOMAINT_UNCHANGED": journal.Int(res.Unchanged), "GOMAINT_BUSY": journal.Int(res.Busy),
		"GOMAINT_HASHED_BYTES": journal.Int(res.HashedBytes), "GOMAINT_FINDINGS": journal.Int(int64(len(fs))),
		"GOMAINT_DURATION_MSEC": journal.Int(res.DurationMS)}
	for k, v := range cache {
		fields[k] = v
	}
	msg := fmt.Sprintf("module cache %s: %d versions, %d hashed (%d bytes), %d unchanged, %d findings",
		res.Path, res.Versions, res.Hashed, res.HashedBytes, res.Unchanged, len(fs))
	prio := journal.Info
	if res.Error != "" {
		msg, prio = fmt.Sprintf("module cache %s: not verified: %s", res.Path, res.Error), journal.Err
		fields["GOMAINT_REASON"] = res.Error
	}
	journal.Emit(sink, journal.Event{Type: journal.Verify, Priority: prio, Message: msg, Fields: fields})
}
