package verify

import (
	"context"
	"fmt"
	"maps"
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
	// StateError says why what this run verified could not be remembered
	// (the state directory is read-only or full): the findings stand, but
	// the next run hashes those versions again.
	StateError string `json:"state_error,omitempty"`
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
		switch {
		case err != nil && ctx.Err() != nil:
			// Stopped: keep what verified, so that a run stopped again and
			// again still makes progress. Entries of the state are only
			// ever trusted while their fingerprint holds, so old ones kept
			// beside the new are never wrong, only dropped by the next run
			// that ends.
			res.Interrupted, res.Error = true, "interrupted before every version was checked"
			if st.Caches[rt.Path] == nil {
				st.Caches[rt.Path] = map[string]Entry{}
			}
			maps.Copy(st.Caches[rt.Path], res.Verified)
		case err != nil:
			res.Error = err.Error()
		case !rt.Exists:
			delete(st.Caches, rt.Path) // wiped: no version of it is verified any more
		default:
			st.Caches[rt.Path] = res.Verified
		}
		rep.Caches = append(rep.Caches, res)
		rep.Findings = append(rep.Findings, fs...)
		emit(req.Sink, res, fs)
	}
	if req.KeepState {
		return rep
	}
	if err := st.save(req.StateDir); err != nil {
		rep.StateError = err.Error()
		if req.Sink != nil {
			journal.Emit(req.Sink, journal.Event{Type: journal.VerifyIncomplete, Priority: journal.Warning,
				Message: fmt.Sprintf("verify: what this run verified is not remembered, so the next run hashes it again: %v; fix: make the state directory writable and give it space", err),
				Fields:  map[string]string{"GOMAINT_REASON": err.Error(), "GOMAINT_STATE_DIRECTORY": req.StateDir}})
		}
	}
	return rep
}

func one(ctx context.Context, rt target.Resolved, req Request, known map[string]Entry) (*CacheResult, []Finding, error) {
	empty := &CacheResult{Target: rt.Name, Path: rt.Path, Exists: rt.Exists}
	switch {
	case rt.Err != nil:
		return empty, nil, rt.Err
	case !rt.Exists:
		return empty, nil, nil // nothing downloaded yet: Exists false says so
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

// Summary is one line on the cache's verification, for the journal, the
// command and the daemon's status.
func (r *CacheResult) Summary(findings int) string {
	switch {
	case r.Interrupted:
		return fmt.Sprintf("interrupted: of %d versions, %d hashed and %d unchanged so far", r.Versions, r.Hashed, r.Unchanged)
	case r.Error != "":
		return "not verified: " + r.Error
	case !r.Exists:
		return "absent: go has not made it yet, nothing to verify"
	}
	s := fmt.Sprintf("%d versions, %d hashed (%s read), %d unchanged", r.Versions, r.Hashed, config.FormatSize(r.HashedBytes), r.Unchanged)
	if r.Busy > 0 {
		s += fmt.Sprintf(", %d busy", r.Busy)
	}
	if r.ModOnly > 0 {
		s += fmt.Sprintf(", %d only a .mod (%d with no checksum to check it against)", r.ModOnly, r.Unchecked)
	}
	return s + fmt.Sprintf(", %d findings", findings)
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
		"GOMAINT_MOD_ONLY": journal.Int(res.ModOnly), "GOMAINT_UNCHECKED": journal.Int(res.Unchecked),
		"GOMAINT_HASHED_BYTES": journal.Int(res.HashedBytes), "GOMAINT_FINDINGS": journal.Int(int64(len(fs))),
		"GOMAINT_DURATION_MSEC": journal.Int(res.DurationMS)}
	for k, v := range cache {
		fields[k] = v
	}
	msg := fmt.Sprintf("module cache %s: %s", res.Path, res.Summary(len(fs)))
	prio := journal.Info
	switch {
	case res.Interrupted:
		msg, prio = msg+"; what verified is kept for the next run", journal.Notice
		fields["GOMAINT_REASON"] = res.Error
	case res.Error != "":
		prio, fields["GOMAINT_REASON"] = journal.Err, res.Error
	case !res.Exists:
		fields["GOMAINT_REASON"] = "absent"
	}
	journal.Emit(sink, journal.Event{Type: journal.Verify, Priority: prio, Message: msg, Fields: fields})
}
