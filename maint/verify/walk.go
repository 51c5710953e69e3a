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

// found is what a walk of the cache saw: extracted version directories,
// and the downloaded zips and .mod files, each by the path of its
// version's directory.
type found struct {
	dirs  []string
	files []download
}

// download is a version's .zip or .mod: the version's directory, the
// file's path (both relative to the cache root) and its extension.
type download struct{ rel, path, ext string }

func (f *found) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	kind, class := layout.Entry(d, e.Name, e.IsDir(), false)
	switch {
	case kind == layout.VersionDir || kind == layout.ToolchainDir:
		f.dirs = append(f.dirs, d.Join(e.Name))
		return scan.Skip // read by its checker, not by the walk
	case d.Class == layout.AtV && e.IsFile():
		if _, ext, _ := layout.VersionFile(string(e.Name)); ext == ".zip" || ext == ".mod" {
			f.files = append(f.files, download{layout.VersionOfDownload(d.Path, string(e.Name)), d.Join(e.Name), ext})
		}
	}
	return class
}

func (f *found) Report(*scan.Dir, []byte, scan.Problem, error) {} // audit reports what a walk cannot read

// badName is a version whose name go could not have made (it does not
// unescape): its directory or download files, relative to the cache root.
type badName struct {
	rel   string
	paths []string
	err   error
}

// versions lists every module version of the cache: extracted,
// downloaded only (a .zip without its directory), or only its .mod (go
// needed the module's requirements, not its code), each once, sorted.
func versions(ctx context.Context, root *safefs.Root) ([]*version, []*badName, error) {
	sroot, err := scan.RootOf(root.FD)
	if err != nil {
		return nil, nil, err
	}
	walked, err := scan.Walk(ctx, root.FD, sroot, scan.Options{}, func() *found { return &found{} })
	if err != nil {
		return nil, nil, err
	}
	byRel := map[string]*version{}
	badRel := map[string]*badName{}
	var bad []*badName
	add := func(rel, path string, set func(*version)) {
		if v := byRel[rel]; v != nil {
			set(v)
			return
		} else if b := badRel[rel]; b != nil {
			b.paths = append(b.paths, path)
			return
		}
		p, ver, ok := splitDir(rel)
		if !ok {
			return // layout only names directories with an '@'; a zip's name has its version
		}
		v, err := parseVersion(p, ver)
		if err != nil {
			badRel[rel] = &badName{rel, []string{path}, err}
			bad = append(bad, badRel[rel])
			return
		}
		set(v)
		byRel[rel] = v
	}
	for _, f := range walked {
		for _, rel := range f.dirs {
			add(rel, rel, func(v *version) { v.hasDir = true })
		}
		for _, d := range f.files {
			add(d.rel, d.path, func(v *version) { v.hasZip = v.hasZip || d.ext == ".zip" })
		}
	}
	vs := make([]*version, 0, len(byRel))
	for _, v := range byRel {
		vs = append(vs, v)
	}
	slices.SortFunc(vs, func(a, b *version) int { return strings.Compare(a.rel(), b.rel()) })
	return vs, bad, nil
}

// rmCommand removes files or directories go did not make (their entries
// may be read-only, as go leaves extracted ones).
func rmCommand(paths ...string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = safetext.ShellQuote(p)
	}
	all := strings.Join(q, " ")
	return "chmod -R u+w " + all + " && rm -rf " + all
}
