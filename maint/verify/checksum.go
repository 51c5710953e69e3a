package verify

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/finding"
)

// checkRecord compares the version's .ziphash and .mod with its lookup
// record, when it has one, and says what its files and zip must hash to
// and which file says so: the record, when it holds the version's hash,
// so that files rewritten along with their .ziphash are caught; else the
// .ziphash.
func (c *checker) checkRecord(dlfd int, ziphash string) (fs []Finding, want, from string) {
	v := c.v
	want, from = ziphash, v.escVersion+".ziphash"
	if c.rec == nil {
		return nil, want, from
	}
	zip, mod, fs := c.recordSums()
	if fs != nil {
		return fs, want, from
	}
	if zip != "" {
		if zip != ziphash {
			fs = append(fs, c.found(moduleChecksumMismatch, finding.Error, fmt.Sprintf("%s says %s, %s%s", from, ziphash, c.says(), zip), nil)...)
		}
		want, from = zip, c.rec.rel()
	}
	if mod != "" {
		mfs, _ := c.checkMod(dlfd, mod)
		fs = append(fs, mfs...)
	}
	return fs, want, from
}

// recordSums reads the version's hashes from its lookup record, c.rec:
// of its files (zip) and of its .mod (mod), "" for a line it does not
// have (or no record); fs is the finding when the record cannot be used.
func (c *checker) recordSums() (zip, mod string, fs []Finding) {
	if c.rec == nil {
		return "", "", nil
	}
	zip, mod, err := c.rec.sums(c.root, c.v)
	switch {
	case errors.Is(err, errBadRecord):
		f := c.found(moduleChecksumMismatch, finding.Error, err.Error(), nil)
		f[0].Fix = "remove it, and go fetches the answer again: " + rmCommand(c.root.Path+"/"+c.rec.rel())
		return "", "", f
	case err != nil:
		return "", "", c.found(moduleUnreadable, finding.Error, err.Error(), nil)
	}
	return zip, mod, nil
}

func (c *checker) says() string {
	return "the checksum database's answer go recorded (" + c.rec.rel() + ") says "
}

// checkMod compares the version's .mod with mod, its hash from the
// record; checked is false when there is no .mod to compare.
func (c *checker) checkMod(dlfd int, mod string) (fs []Finding, checked bool) {
	v := c.v
	modRel := v.atV() + "/" + v.escVersion + ".mod"
	got, err := modSum(c.root, dlfd, v)
	switch {
	case errors.Is(err, unix.ENOENT): // nothing to check; go fetches it again when it needs it
		return nil, false
	case err != nil:
		return c.found(moduleUnreadable, finding.Error, fmt.Sprintf("%s: %v", modRel, err), nil), true
	case got != mod:
		f := c.found(moduleChecksumMismatch, finding.Error, fmt.Sprintf("%s hashes to %s, %s%s", modRel, got, c.says(), mod), nil)
		f[0].Fix = reinstall(c.root.Path, v, ".mod") // clean and fix keep .mod; go would refuse this one
		return f, true
	}
	return nil, true
}
