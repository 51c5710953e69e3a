package alert

import (
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/verify"
)

// Looked says what runs looked at, and so which open findings their
// silence resolves: an audit checks GOROOT and audits targets, but leaves
// module verification findings to a verification, and GOROOT_MODIFIED to a
// verification of GOROOT.
type Looked struct {
	Audited, Verified func(target string) bool // nil: none
	GOROOTChecked     bool
	GOROOTVerified    bool
}

// Covers is l as Notify takes it.
func (l Looked) Covers(target string, c finding.Code) bool {
	switch {
	case c == goroot.Modified:
		return l.GOROOTVerified
	case c.Decl().MachineWide:
		return l.GOROOTChecked
	case verify.Reports(c):
		return l.Verified != nil && l.Verified(target)
	}
	return l.Audited != nil && l.Audited(target)
}
