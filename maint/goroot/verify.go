package goroot

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/safetext"
)

// Modified is reported by `check goroot --verify` when files of GOROOT
// differ from its baseline. It is a goroot event too.
var Modified = finding.Declare(finding.Decl{Name: "GOROOT_MODIFIED", Lowest: finding.Error, Highest: finding.Error,
	ID: "9ce0611457f545ecac41ac1fbc07e6f0", Event: "goroot", MachineWide: true,
	Summary: "files of GOROOT were changed, added or removed since its baseline (dpkg's md5sums, rpm's database, or the one gomaint recorded)"})

// Baselines a GOROOT is verified against.
const (
	BaselineDpkg    = "dpkg"    // the packages' md5sums in /var/lib/dpkg/info
	BaselineRecords = "gomaint" // what `check goroot --record` wrote
)

// Verification is the outcome of verifying every file of a GOROOT.
type Verification struct {
	Path string `json:"path"`
	// Baseline is BaselineDpkg, BaselineRPM or BaselineRecords; Packages
	// are the packages whose checksums were used, File the recorded baseline.
	Baseline string   `json:"baseline"`
	Packages []string `json:"packages,omitempty"`
	File     string   `json:"file,omitempty"`
	// Entries is how many files, links and directories were examined.
	Entries int      `json:"entries"`
	Changed []Change `json:"changed"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	// Code is Modified when anything was changed, added or removed.
	Code   finding.Code `json:"code,omitzero"`
	Reason string       `json:"reason,omitempty"`
	Fix    string       `json:"fix,omitempty"`
}

// Change is a file that is there but differs; names are relative to GOROOT.
type Change struct {
	Path string `json:"path"`
	What string `json:"what"`
}

// NoBaselineError: GOROOT is not from a package gomaint can read and no
// baseline was recorded for it.
type NoBaselineError struct{ Path string }

func (e *NoBaselineError) Error() string {
	return fmt.Sprintf("GOROOT %s has no baseline to verify against: no Debian package installed it and gomaint recorded none; "+
		"record one while you trust it: %s", e.Path, recordCommand(e.Path))
}

// StaleBaselineError: the recorded baseline is for another Go version (an
// upgrade since), so differences would be no evidence of tampering.
type StaleBaselineError struct{ Path, Recorded, Current string }

func (e *StaleBaselineError) Error() string {
	return fmt.Sprintf("the baseline of GOROOT %s was recorded for %s, but it now holds %s; "+
		"once you trust the new version, record anew: %s", e.Path, e.Recorded, e.Current, recordCommand(e.Path))
}

func recordCommand(path string) string {
	return "gomaint check goroot --record --goroot " + safetext.ShellQuote(path)
}

// finish sorts the lists and sets the code, reason and fix.
func (v *Verification) finish(fix string) {
	sort.Slice(v.Changed, func(i, j int) bool { return v.Changed[i].Path < v.Changed[j].Path })
	sort.Strings(v.Added)
	sort.Strings(v.Removed)
	if len(v.Changed)+len(v.Added)+len(v.Removed) == 0 {
		return
	}
	v.Code, v.Fix = Modified, fix
	v.Reason = fmt.Sprintf("GOROOT %s differs from its %s baseline: %d changed, %d added, %d removed: %s",
		v.Path, v.Baseline, len(v.Changed), len(v.Added), len(v.Removed), v.firstFew(5))
}

// firstFew names up to n of the differences, changed first.
func (v *Verification) firstFew(n int) string {
	var names []string
	for _, c := range v.Changed {
		names = append(names, c.Path+" ("+c.What+")")
	}
	for _, a := range v.Added {
		names = append(names, a+" (added)")
	}
	for _, r := range v.Removed {
		names = append(names, r+" (removed)")
	}
	if len(names) > n {
		names = append(names[:n], fmt.Sprintf("and %d more", len(names)-n))
	}
	return strings.Join(names, ", ")
}

// kindWord names a node's kind in a change.
func kindWord(k byte) string {
	switch k {
	case kindFile:
		return "a file"
	case kindLink:
		return "a symbolic link"
	case kindDir:
		return "a directory"
	}
	return "a FIFO, socket or device"
}

// shown is a name as the lists give it: a directory with a trailing slash.
func shown(rel string, kind byte) string {
	if kind == kindDir {
		return rel + "/"
	}
	return rel
}

// Verify checks every file of the GOROOT at path against its baseline:
// dpkg's md5sums when a Debian package installed it, `rpm -V` when an rpm
// did, else the baseline
// `check goroot --record` wrote into one of stateDirs (the first that has
// one). The errors *NoBaselineError and *StaleBaselineError say there is
// nothing to verify against; other errors, that it could not be read.
// ctx bounds the walk.
func Verify(ctx context.Context, path string, stateDirs []string) (Verification, error) {
	pkgs, err := dpkgOwners(path)
	if err != nil {
		return Verification{}, err
	}
	if len(pkgs) > 0 {
		return verifyDpkg(ctx, path)
	}
	if pkgs, err = rpmOwners(ctx, path); err != nil {
		return Verification{}, err
	} else if len(pkgs) > 0 {
		return verifyRPM(ctx, path, pkgs)
	}
	return verifyRecorded(ctx, path, stateDirs)
}
