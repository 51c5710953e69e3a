package verify

import (
	"context"
	"slices"
	"strings"

	"github.com/gomaint/gomaint/maint/layout"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/safetext"
	"github.com/gomaint/gomaint/maint/scan"
)

// found is what a walk of the cache saw: extracted version directories
// and downloaded zips, by the path of the version's directory.
type found struct {
	dirs, zips []string
}

func (f *found) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	kind, class := layout.Entry(d, e.Name, e.IsDir(), false)
	switch {
	case kind == layout.VersionDir || kind == layout.ToolchainDir:
		f.dirs = append(f.dirs, d.Join(e.Name))
		return scan.Skip // read by its checker, not by the walk
	case d.Class == layout.AtV && e.IsFile():
		if _, ext, ok := layout.VersionFile(string(e.Name)); ok && ext == ".zip" {
			f.zips = append(f.zips, layout.VersionOfDownload(d.Path, string(e.Name)))
		}
	}
	return class
}

func (f *found) Report(*scan.Dir, []byte, scan.Problem, error) {} // audit reports what a walk cannot read

// badName is a directory named like a version that go could not have
// made: its name does not unescape.
type badName struct {
	rel string
	err error
}

// versions lists every module version of the cache: extracted, or
// downloaded only (a .zip without its directory), each once, sorted.
func versions(ctx context.Context, root *safefs.Root) ([]*version, []badName, error) {
	sroot, err := scan.RootOf(root.FD)
	if err != nil {
		return nil, nil, err
	}
	walked, err := scan.Walk(ctx, root.FD, sroot, scan.Options{}, func() *found { return &found{} })
	if err != nil {
		return nil, nil, err
	}
	byRel := map[string]*version{}
	var bad []badName
	add := func(rel string, dir bool) {
		if v := byRel[rel]; v != nil {
			v.hasDir = v.hasDir || dir
			return
		}
		p, ver, ok := splitDir(rel)
		if !ok {
			return // layout only names directories with an '@'; a zip's name has its version
		}
		v, err := parseVersion(p, ver)
		if err != nil {
			bad = append(bad, badName{rel, err})
			return
		}
		v.hasDir = dir
		byRel[rel] = v
	}
	for _, f := range walked {
		for _, rel := range f.dirs {
			add(rel, true)
		}
	}
	for _, f := range walked {
		for _, rel := range f.zips {
			add(rel, false)
		}
	}
	vs := make([]*version, 0, len(byRel))
	for _, v := range byRel {
		vs = append(vs, v)
	}
	slices.SortFunc(vs, func(a, b *version) int { return strings.Compare(a.rel(), b.rel()) })
	return vs, bad, nil
}

// rmCommand removes a directory go did not make (its entries may be
// read-only, as go leaves extracted ones).
func rmCommand(dir string) string {
	q := safetext.ShellQuote(dir)
	return "chmod -R u+w " + q + " && rm -rf " + q
}
