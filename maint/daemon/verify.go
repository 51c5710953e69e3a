package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/verify"
)

// Verification jobs: incremental (verify_schedule) and full
// (verify_full_schedule), both also control commands.
const (
	jobVerify     = "verify"
	jobVerifyFull = "verify-full"
)

// runVerify verifies the job's module caches, and GOROOT when it has a
// baseline, through the same engines as `gomaint verify` and `check
// goroot --verify`, which journal as they do for the CLI. It runs on the
// one worker like every job; scan.Idle puts only the threads that read
// files at idle I/O priority and nice 10, so that the daemon's own
// threads (the loop, its watchdog pings, the watches) keep theirs.
func (d *daemon) runVerify(ctx context.Context, j *job) {
	ctx = scan.Idle(ctx)
	cfg := *j.cfg
	cfg.Targets = nil
	for _, t := range j.targets {
		if t.rt.Kind == config.Mod {
			cfg.Targets = append(cfg.Targets, t.rt.Target)
		}
	}
	rep := &verify.Report{}
	if len(cfg.Targets) > 0 {
		rep = verify.Run(ctx, verify.Request{Config: &cfg, Environ: d.opt.Environ, Sink: d.opt.Sink,
			Full: j.kind == jobVerifyFull, StateDir: d.opt.StateDir})
	}
	var gv *goroot.Verification
	var gline string
	if j.target == "" { // a request for one target is about that target
		gv, gline = d.verifyGOROOT(ctx)
	}
	if ctx.Err() != nil {
		return // a stop: what was not verified is no verdict
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range rep.Caches {
		t := d.findIn(j.targets, c.Target)
		if t == nil {
			continue
		}
		t.status.LastVerify = now
		t.status.VerifyModules = metrics.AddCounts(t.status.VerifyModules, rep.Counts(c.Target))
		if rep.Succeeded(c.Target) {
			t.status.LastVerifySuccess = now
		}
		// This verification replaces the last one's findings; audits' stay.
		var kept, ours []audit.Finding
		for _, f := range t.status.Findings {
			if !verify.Reports(f.Code) {
				kept = append(kept, f)
			}
		}
		for _, f := range rep.Findings {
			if f.Cache == c.Target {
				ours = append(ours, audit.VerifyFinding(f))
			}
		}
		t.status.Findings = append(kept, ours...)
		j.resp.Findings = append(j.resp.Findings, ours...)
		t.status.LastVerifyResult = c.Summary(len(ours))
		if rep.StateError != "" {
			t.status.LastVerifyResult += "; not remembered for the next run: " + rep.StateError
		}
	}
	if gline != "" {
		d.status.GOROOTVerify, d.status.Findings = gline, nil
		if gv != nil && !gv.Code.IsZero() {
			f := audit.Finding{Code: gv.Code, Severity: gv.Code.Decl().Highest, Path: gv.Path, Detail: gv.Reason, Fix: gv.Fix}
			d.status.Findings = []audit.Finding{f}
			j.resp.Findings = append(j.resp.Findings, f)
		}
	}
}

// verifyGOROOT verifies the GOROOT the daemon checked last against its
// baseline. line is what the status says of it ("" when there is no
// usable GOROOT to verify). No baseline, or one for another Go version, is
// not an error on a schedule: someone has to record one, and saying so at
// every run would only bury the journal, so it is journaled once per
// daemon and reason.
func (d *daemon) verifyGOROOT(ctx context.Context) (*goroot.Verification, string) {
	d.mu.Lock()
	gr := d.status.GOROOT
	d.mu.Unlock()
	if !gr.OK || gr.Path == "" {
		return nil, ""
	}
	v, err := goroot.Verify(ctx, gr.Path, goroot.BaselineDirs(discover.EnvFrom(d.opt.Environ)))
	var none *goroot.NoBaselineError
	var stale *goroot.StaleBaselineError
	switch {
	case ctx.Err() != nil:
		return nil, ""
	case errors.As(err, &none) || errors.As(err, &stale):
		if d.firstTime("goroot-baseline " + err.Error()) {
			journal.Emit(d.opt.Sink, journal.Event{Type: journal.VerifyIncomplete, Priority: journal.Notice,
				Message: "GOROOT not verified: " + err.Error(), Fields: map[string]string{"GOMAINT_GOROOT": gr.Path, "GOMAINT_REASON": err.Error()}})
		}
		return nil, "not verified: " + err.Error()
	case err != nil:
		journal.Emit(d.opt.Sink, journal.Event{Type: journal.VerifyIncomplete, Priority: journal.Warning,
			Message: fmt.Sprintf("GOROOT %s could not be verified: %v", gr.Path, err), Fields: map[string]string{"GOMAINT_GOROOT": gr.Path, "GOMAINT_REASON": err.Error()}})
		return nil, "not verified: " + err.Error()
	}
	goroot.EmitModified(d.opt.Sink, v)
	if !v.Code.IsZero() {
		return &v, v.Code.String() + ": " + v.Reason
	}
	return &v, fmt.Sprintf("verified against its %s baseline: %d entries", v.Baseline, v.Entries)
}
