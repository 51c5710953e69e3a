package repair

import (
	"context"
	"fmt"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/facts"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/target"
	"github.com/gomaint/gomaint/maint/trim"
	"github.com/gomaint/gomaint/maint/verify"
)

// Removed is one module version that fix removed (a dry run: would
// remove) because its verification found it modified (verify.Removable).
type Removed struct {
	Module  string `json:"module"` // path@version, as go commands take it
	Path    string `json:"path"`   // the extracted directory, relative to the cache root
	Code    string `json:"code"`
	Refetch string `json:"refetch"` // the command that has go download it again
}

// Modified is what fix did about module versions that fail verification.
type Modified struct {
	Removed []Removed `json:"removed"`
	// Busy versions were left: go holds their lock (or a .partial says
	// one is being downloaded or removed), so the verification skipped them
	// or the removal did (named: Paths); the next fix judges them anew.
	Busy   facts.Sample `json:"busy"`
	Failed facts.Sample `json:"failed"`
}

// removeModified verifies the module cache of rt now, never trusting an
// earlier run's findings (verify.Run: incremental, but a version with a
// finding is hashed again every run), and removes each version
// verify.Removable allows with trim.RemoveVersion, under go's lock. The
// caller holds the cache's lock, so no clean or other fix runs meanwhile.
func removeModified(ctx context.Context, req Request, rt target.Resolved, root *safefs.Root, changed func(Change)) (*Modified, error) {
	one := *req.Config
	one.Targets = []config.Target{rt.Target}
	rep := verify.Run(ctx, verify.Request{Config: &one, Environ: req.Environ, Sink: req.Sink, StateDir: req.StateDir, KeepState: req.DryRun})
	if len(rep.Caches) != 1 || rep.Caches[0].Path != rt.Path {
		return nil, fmt.Errorf("verify %s: the target resolved elsewhere meanwhile; nothing removed", rt.Path)
	}
	if e := rep.Caches[0].Error; e != "" {
		return nil, fmt.Errorf("verify %s: %s; nothing removed", rt.Path, e)
	}
	m := &Modified{Removed: []Removed{}, Busy: facts.Sample{Count: rep.Caches[0].Busy}}
	for _, f := range rep.Findings {
		if !verify.Removable(f) {
			continue
		}
		res, err := trim.RemoveVersion(root, f.Path, trim.Options{DryRun: req.DryRun})
		switch {
		case err != nil:
			m.Failed.Add(f.Path+": "+err.Error(), 0)
		case res.Failed > 0:
			m.Failed.Add(res.FirstError, 0)
		case res.Skipped > 0:
			m.Busy.Add(f.Path, 0)
		case res.Versions == 1:
			r := Removed{Module: f.Module, Path: f.Path, Code: f.Code.String(), Refetch: verify.Refetch(rt.Path, f.Module)}
			m.Removed = append(m.Removed, r)
			changed(Change{Path: f.Path, What: "remove", From: r.Code, To: "removed", Module: r.Module, Refetch: r.Refetch})
		}
	}
	return m, nil
}
