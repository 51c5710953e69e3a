package metrics

import (
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/clean"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/verify"
)

// The CLI's audit, clean and verify keep gomaint.prom when no daemon does (a
// machine with only gomaint-clean.timer, or cron): each run lays what it
// measured over what the file said before (Read), so the same families
// and labels as the daemon's stay, counters keep counting, and
// gomaint_last_audit_timestamp_seconds is the last audit by anyone.

// Audited is prev after an audit: the figures, limits and findings of the
// audited caches, the audit's GOROOT check, and prev's trim counters and
// clean times. With partial (an audit of one --target), the targets the
// audit did not cover keep what prev said of them; otherwise they go.
func Audited(prev Snapshot, rep *audit.Report, partial bool, now time.Time) Snapshot {
	s := Snapshot{GorootOK: rep.GOROOT.OK}
	old := byName(prev.Targets)
	covered := map[string]bool{}
	for _, c := range rep.Caches {
		covered[c.Name] = true
		t := Target{Name: c.Name, Kind: c.Kind, Path: c.Path, LimitBytes: c.LimitBytes, LastAudit: now}
		if c.Facts != nil {
			t.DiskBytes, t.Files = c.DiskBytes, c.Files
			t.OldestEntryUnix = c.Facts.OldestEntryUnix
		}
		if c.FS != nil {
			t.FSFreeBytes, t.FSFreeInodes = c.FS.FreeBytes, c.FS.FreeInodes
		}
		if p, ok := old[c.Name]; ok {
			t.TrimFreedBytesTotal, t.LastCleanSuccess = p.TrimFreedBytesTotal, p.LastCleanSuccess
			t.VerifyModules, t.LastVerifySuccess = p.VerifyModules, p.LastVerifySuccess
			t.Counts, t.EvictedBytesTotal = p.Counts, p.EvictedBytesTotal
		}
		s.Targets = append(s.Targets, t)
	}
	s.Findings = CountFindings(rep.Findings) // GOROOT findings have no target
	for _, f := range prev.Findings {
		if verifying(f.Code) && (f.Target == "" || covered[f.Target]) {
			s.Findings = append(s.Findings, f) // the next verification replaces them
		}
	}
	if partial {
		for _, p := range prev.Targets {
			if !covered[p.Name] {
				s.Targets = append(s.Targets, p)
			}
		}
		for _, f := range prev.Findings {
			if f.Target != "" && !covered[f.Target] {
				s.Findings = append(s.Findings, f)
			}
		}
	}
	return s
}

// Cleaned is prev after a clean: each cleaned cache measured again (the
// trim changed it), its freed bytes added to the counter, its clean time
// when it ended within its limits; limits come from limit (by target
// name), GOROOT from gr. Findings and audit times stay prev's: a clean
// does not audit. A dry run changes nothing.
func Cleaned(prev Snapshot, outs []clean.Outcome, limit map[string]int64, gr goroot.Result, goRootRequired bool, now time.Time) Snapshot {
	s := Snapshot{GorootOK: gr.OK}
	for _, f := range prev.Findings {
		if f.Target != "" || verifying(f.Code) {
			s.Findings = append(s.Findings, f)
		}
	}
	if !gr.OK && !gr.Code.IsZero() {
		s.Findings = append(s.Findings, Finding{Code: gr.Code.String(), Severity: gr.Severity(goRootRequired).String(), Count: 1})
	}
	old := byName(prev.Targets)
	seen := map[string]bool{}
	for _, o := range outs {
		seen[o.Target] = true
		t, ok := old[o.Target]
		if !ok {
			t = Target{Name: o.Target, Kind: o.Kind}
		}
		t.Path, t.LimitBytes = o.Path, limit[o.Target]
		if r := o.Result; r != nil && !r.DryRun {
			t.TrimFreedBytesTotal += r.FreedBytes
			if o.OK() {
				t.LastCleanSuccess = now
			}
		}
		if o.Path != "" {
			if b, f, fs, err := scan.Measure(o.Path); err == nil {
				t.DiskBytes, t.Files, t.FSFreeBytes, t.FSFreeInodes = b, f, fs.FreeBytes, fs.FreeInodes
			}
		}
		s.Targets = append(s.Targets, t)
	}
	for _, p := range prev.Targets {
		if !seen[p.Name] {
			s.Targets = append(s.Targets, p)
		}
	}
	return s
}

// Verified is prev after `gomaint verify`: each verified cache's counts
// added to its counters, its success time when it verified without an
// error, and its verification findings replaced by the new ones. Audits'
// findings, figures and GOROOT stay prev's.
func Verified(prev Snapshot, rep *verify.Report, now time.Time) Snapshot {
	s := Snapshot{GorootOK: prev.GorootOK}
	covered := map[string]bool{}
	for _, c := range rep.Caches {
		covered[c.Target] = true
	}
	for _, f := range prev.Findings {
		if !covered[f.Target] || !verifying(f.Code) {
			s.Findings = append(s.Findings, f)
		}
	}
	for _, f := range rep.Findings {
		s.Findings = append(s.Findings, Finding{Target: f.Cache, Code: f.Code.String(), Severity: f.Severity.String(), Count: 1})
	}
	old := byName(prev.Targets)
	for _, c := range rep.Caches {
		t, ok := old[c.Target]
		if !ok {
			t = Target{Name: c.Target, Kind: string(config.Mod), Path: c.Path}
		}
		t.VerifyModules = AddCounts(t.VerifyModules, rep.Counts(c.Target))
		if rep.Succeeded(c.Target) {
			t.LastVerifySuccess = now
		}
		old[c.Target] = t
	}
	for _, p := range prev.Targets {
		s.Targets = append(s.Targets, old[p.Name])
		delete(old, p.Name)
	}
	for _, c := range rep.Caches {
		if t, ok := old[c.Target]; ok {
			s.Targets = append(s.Targets, t)
		}
	}
	return s
}

// AddCounts adds a run's counts to a counter's, into a new map: a status
// or snapshot holding the old one may be read meanwhile.
func AddCounts(total, run map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(run))
	for k, v := range total {
		out[k] = v
	}
	for k, v := range run {
		out[k] += v
	}
	return out
}

// verifying says whether a finding comes from verification (a module
// cache's, or GOROOT_MODIFIED): it stands until the next verification,
// not the next audit or clean.
func verifying(code string) bool {
	c, ok := finding.Lookup(code)
	return ok && (verify.Reports(c) || c == goroot.Modified)
}

func byName(ts []Target) map[string]Target {
	m := make(map[string]Target, len(ts))
	for _, t := range ts {
		m[t.Name] = t
	}
	return m
}
