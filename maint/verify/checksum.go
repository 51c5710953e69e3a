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
	says := "the checksum database's answer go recorded (" + c.rec.rel() + ") says "
	zip, mod, err := c.rec.sums(c.root, v)
	switch {
	case errors.Is(err, errBadRecord):
		f := c.found(moduleChecksumMismatch, finding.Error, err.Error(), nil)
		f[0].Fix = "remove it, and go fetches the answer again: " + rmCommand(c.root.Path+"/"+c.rec.rel())
		return f, want, from
	case err != nil:
		return c.found(moduleUnreadable, finding.Error, err.Error(), nil), want, from
	}
	if zip != "" {
		if zip != ziphash {
			fs = append(fs, c.found(moduleChecksumMismatch, finding.Error, fmt.Sprintf("%s says %s, %s%s", from, ziphash, says, zip), nil)...)
		}
		want, from = zip, c.rec.rel()
	}
	if mod == "" {
		return fs, want, from
	}
	modRel := v.atV() + "/" + v.escVersion + ".mod"
	got, err := modSum(c.root, dlfd, v)
	switch {
	case errors.Is(err, unix.ENOENT): // nothing to check; go fetches it again when it needs it
	case err != nil:
		fs = append(fs, c.found(moduleUnreadable, finding.Error, fmt.Sprintf("%s: %v", modRel, err), nil)...)
	case got != mod:
		f := c.found(moduleChecksumMismatch, finding.Error, fmt.Sprintf("%s hashes to %s, %s%s", modRel, got, says, mod), nil)
		f[0].Fix = reinstall(c.root.Path, v, ".mod") // clean and fix keep .mod; go would refuse this one
		fs = append(fs, f...)
	}
	return fs, want, from
}
