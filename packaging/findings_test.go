// Every finding code is declared once (maint/finding), and the catalog,
// the man page and the code agree on the codes. The test imports every
// package that declares codes, so that it sees them all.

package packaging

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	_ "github.com/gomaint/gomaint/maint/audit"  // the checks' codes
	_ "github.com/gomaint/gomaint/maint/daemon" // WATCH_DEGRADED
	"github.com/gomaint/gomaint/maint/finding"
	_ "github.com/gomaint/gomaint/maint/goroot" // GOROOT_MISSING, GOROOT_INVALID
	"github.com/gomaint/gomaint/maint/journal"
	_ "github.com/gomaint/gomaint/maint/verify" // MODULE_MODIFIED and the other module-cache codes
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

var severityWord = regexp.MustCompile(`\b(info|warning|error)\b`)

// TestManPageListsFindings: gomaint.8's FINDINGS section has an entry for
// every declared code and no other, and each entry opens with the
// severities the code's declaration allows, no more and no fewer.
func TestManPageListsFindings(t *testing.T) {
	page := string(repoFile(t, "packaging/gomaint.8"))
	_, section, _ := strings.Cut(page, "\n.SH FINDINGS\n")
	section, _, _ = strings.Cut(section, "\n.SH ")
	listed := map[string]string{} // code -> its severities as the page gives them
	for _, entry := range strings.Split(section, "\n.TP\n")[1:] {
		head, text, _ := strings.Cut(entry, "\n")
		code, ok := strings.CutPrefix(head, ".B ")
		sevs, _, closed := strings.Cut(strings.TrimPrefix(text, "("), ")")
		if !ok || !strings.HasPrefix(text, "(") || !closed {
			t.Errorf("gomaint.8: FINDINGS entry %q is not .B CODE and then (severities) text", head)
			continue
		}
		listed[code] = strings.Join(severityWord.FindAllString(sevs, -1), ",")
	}
	for _, c := range finding.All() {
		d := c.Decl()
		var want []string
		for s := d.Lowest; s <= d.Highest; s++ {
			want = append(want, s.String())
		}
		got, ok := listed[d.Name]
		switch {
		case !ok:
			t.Errorf("gomaint.8 does not list %s under FINDINGS", d.Name)
		case !sameWords(got, want):
			t.Errorf("gomaint.8 gives %s the severities (%s), its declaration %s", d.Name, got, strings.Join(want, ","))
		}
		delete(listed, d.Name)
	}
	for code := range listed {
		t.Errorf("gomaint.8 lists %s under FINDINGS, which no package declares", code)
	}
}

// sameWords reports whether the comma-separated words name the same set.
func sameWords(got string, want []string) bool {
	g := strings.Split(got, ",")
	slices.Sort(g)
	g = slices.Compact(g)
	w := slices.Clone(want)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// TestFindingCodeDeclaredOnce: each code's name appears, quoted, in
// exactly one place of the non-test Go code: its declaration. A second
// place is a copy of the name that the registry cannot keep in step.
func TestFindingCodeDeclaredOnce(t *testing.T) {
	where := map[string][]string{}
	for _, c := range finding.All() {
		where[c.String()] = nil
	}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") && path != ".." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for name := range where {
			for range bytes.Count(b, []byte(`"`+name+`"`)) {
				where[name] = append(where[name], path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, files := range where {
		if len(files) != 1 {
			t.Errorf("%q appears %d times in non-test Go code (%s); declare it once with finding.Declare and use the Code", name, len(files), strings.Join(files, ", "))
		}
	}
}
