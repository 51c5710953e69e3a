package metrics

import (
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/verify"
)

func code(t *testing.T, name string) finding.Code {
	t.Helper()
	c, ok := finding.Lookup(name)
	if !ok {
		t.Fatalf("no code %s", name)
	}
	return c
}

// CLI verifications keep counting across runs, replace only their own
// findings, and an audit in between leaves those findings alone.
func TestVerifiedCountsAndFindings(t *testing.T) {
	modified := code(t, "MODULE_MODIFIED")
	now := time.Unix(1700000000, 0)
	prev := Snapshot{Targets: []Target{{Name: "mod", Kind: "mod", DiskBytes: 99}},
		Findings: []Finding{{Target: "mod", Code: "LOW_DISK", Severity: "warning", Count: 1}}}
	bad := &verify.Report{Caches: []*verify.CacheResult{{Target: "mod", Verified: map[string]verify.Entry{"a": {}}}},
		Findings: []verify.Finding{{Code: modified, Severity: finding.Error, Cache: "mod"}}}
	s := Verified(prev, bad, now)
	if m := s.Targets[0]; m.DiskBytes != 99 || m.VerifyModules["ok"] != 1 || m.VerifyModules["modified"] != 1 || !m.LastVerifySuccess.IsZero() {
		t.Errorf("after a run with MODULE_MODIFIED: %+v", m)
	}
	if len(s.Findings) != 2 {
		t.Errorf("findings %+v, want LOW_DISK and MODULE_MODIFIED", s.Findings)
	}

	// An audit replaces its own findings, not verification's.
	s = Audited(s, &audit.Report{Caches: []audit.CacheReport{{Name: "mod", Kind: "mod"}}}, false, now)
	if len(s.Findings) != 1 || s.Findings[0].Code != "MODULE_MODIFIED" || s.Targets[0].VerifyModules["ok"] != 1 {
		t.Errorf("after an audit: %+v", s)
	}

	good := &verify.Report{Caches: []*verify.CacheResult{{Target: "mod", Verified: map[string]verify.Entry{"a": {}, "b": {}}}}}
	s = Verified(s, good, now.Add(time.Hour))
	if m := s.Targets[0]; m.VerifyModules["ok"] != 3 || m.VerifyModules["modified"] != 1 || !m.LastVerifySuccess.Equal(now.Add(time.Hour)) {
		t.Errorf("after a clean run: %+v", m)
	}
	if len(s.Findings) != 0 {
		t.Errorf("findings %+v remain after a clean verification", s.Findings)
	}
}
