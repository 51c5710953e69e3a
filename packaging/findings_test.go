// The catalog and the code agree on the finding codes. The test imports
// every package that declares codes, so that it sees them all.

package packaging

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	_ "github.com/gomaint/gomaint/maint/audit"  // the checks' codes
	_ "github.com/gomaint/gomaint/maint/daemon" // WATCH_DEGRADED
	"github.com/gomaint/gomaint/maint/finding"
	_ "github.com/gomaint/gomaint/maint/goroot" // GOROOT_MISSING, GOROOT_INVALID
	"github.com/gomaint/gomaint/maint/journal"
)

// catalogIDs reads the "-- <id>" headers of units/gomaint.catalog.
func catalogIDs(t *testing.T) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(repoFile(t, "units/gomaint.catalog")))
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "-- "); ok {
			if ids[id] {
				t.Errorf("the catalog lists %s twice", id)
			}
			ids[id] = true
		}
	}
	return ids
}

// TestCatalogMatchesTypes: every event type and every declared finding
// code has a catalog entry under its MESSAGE_ID, and every catalog entry
// belongs to one of them, so a code declared without an entry, or an entry
// whose code was removed or never declared, fails here.
func TestCatalogMatchesTypes(t *testing.T) {
	ids := catalogIDs(t)
	owner := map[string]string{} // MESSAGE_ID -> what has it
	add := func(ty journal.Type, what string) {
		if prev, dup := owner[ty.ID]; dup {
			t.Errorf("%s has the MESSAGE_ID %s of %s", what, ty.ID, prev)
		}
		owner[ty.ID] = what
		if !ids[ty.ID] {
			t.Errorf("units/gomaint.catalog has no entry for %s (-- %s)", what, ty.ID)
		}
	}
	for _, ty := range journal.Types() {
		add(ty, "event "+ty.Event)
	}
	for _, c := range finding.All() {
		add(c.Type(), "finding code "+c.String())
	}
	for id := range ids {
		if owner[id] == "" {
			t.Errorf("catalog entry %s belongs to no event type and no declared finding code", id)
		}
	}
}
