package goroot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/scan"
)

// dpkgInfo is dpkg's database of installed files: PKG.list names every
// path a package installed (files, links, directories; no link targets),
// PKG.md5sums the md5 of its regular files (paths relative to /), and
// PKG.conffiles its configuration files, which md5sums leaves out.
const dpkgInfo = "/var/lib/dpkg/info"

// dpkgOwners returns the packages whose file list names path itself.
func dpkgOwners(dir string) ([]string, error) {
	listed, err := dpkgListed([]string{dir})
	if err != nil {
		return nil, err
	}
	return listed[dir], nil
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// dpkgListed reads every package's file list and returns, for each path
// at or under one of prefixes, the packages that list it. No dpkg database
// at all is no package.
func dpkgListed(prefixes []string) (map[string][]string, error) {
	lists, err := filepath.Glob(filepath.Join(dpkgInfo, "*.list"))
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, f := range lists {
		pkg := strings.TrimSuffix(filepath.Base(f), ".list")
		err := eachLine(f, func(line string) {
			for _, p := range prefixes {
				if under(line, p) {
					out[line] = append(out[line], pkg)
					return
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func eachLine(file string, fn func(string)) error {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dpkg database: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("dpkg database: %s: %w", file, err)
	}
	return nil
}

// dpkgSums reads the md5sums of pkgs, as absolute paths, and marks their
// configuration files (which have none there).
func dpkgSums(pkgs []string) (sums map[string]string, conf map[string]bool, err error) {
	sums, conf = map[string]string{}, map[string]bool{}
	for _, pkg := range pkgs {
		err := eachLine(filepath.Join(dpkgInfo, pkg+".md5sums"), func(line string) {
			// "<32 hex>  usr/lib/go-1.19/bin/go"
			if sum, rel, ok := strings.Cut(line, "  "); ok {
				sums["/"+rel] = sum
			}
		})
		if err != nil {
			return nil, nil, err
		}
		err = eachLine(filepath.Join(dpkgInfo, pkg+".conffiles"), func(line string) {
			name, _, _ := strings.Cut(line, " ") // flags such as remove-on-upgrade follow
			conf[name] = true
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return sums, conf, nil
}

// seen is a node of a packaged GOROOT with its absolute path and its name
// as the user knows it (through GOROOT's own links: "src/runtime/proc.go").
type seen struct {
	node
	abs, name string
}

// dpkgTree is a packaged GOROOT as walked: Debian's has links to
// directories elsewhere (src -> ../../share/go-1.19/src), which the walk
// does not follow. A link is followed, as another walk from its target,
// only when dpkg lists both the link and its target and the target is a
// directory reached without a link; the one thing dpkg does not record
// about a link is its target, so that is as far as dpkg can vouch.
type dpkgTree struct {
	goroot string
	roots  map[string]string // walked directory -> its name under GOROOT
	links  map[string]string // followed link -> its target
	nodes  []seen
	listed map[string][]string
}

func verifyDpkg(ctx context.Context, goroot string) (Verification, error) {
	t := &dpkgTree{goroot: goroot, roots: map[string]string{}, links: map[string]string{}}
	if err := t.walk(ctx); err != nil {
		return Verification{}, err
	}
	v := Verification{Path: goroot, Baseline: BaselineDpkg, Entries: len(t.nodes), Packages: t.packages()}
	sums, conf, err := dpkgSums(v.Packages)
	if err != nil {
		return v, err
	}
	for _, n := range t.nodes {
		t.judge(&v, n, sums, conf)
	}
	t.removed(&v)
	v.finish("reinstall the packages from the archive: apt-get install --reinstall " + strings.Join(v.Packages, " "))
	return v, nil
}

// walk walks GOROOT, then every directory a packaged link in it leads to,
// reading dpkg's lists for each new set of directories.
func (t *dpkgTree) walk(ctx context.Context) error {
	pending := map[string]string{t.goroot: ""}
	for len(pending) > 0 {
		var prefixes []string
		for dir, name := range pending {
			nodes, err := hashWalk(ctx, dir, newMD5)
			if err != nil {
				return err
			}
			t.roots[dir] = name
			for _, n := range nodes {
				t.nodes = append(t.nodes, seen{node: n, abs: dir + "/" + n.rel, name: path.Join(name, n.rel)})
			}
		}
		for dir := range t.roots {
			prefixes = append(prefixes, dir)
		}
		pending = map[string]string{}
		targets := map[string]string{}
		for _, n := range t.nodes {
			if n.kind == kindLink && n.err == nil {
				targets[n.abs] = linkTarget(n.abs, n.link)
				prefixes = append(prefixes, targets[n.abs])
			}
		}
		var err error
		if t.listed, err = dpkgListed(prefixes); err != nil {
			return err
		}
		for link, target := range targets {
			if _, done := t.links[link]; done || t.listed[link] == nil || t.listed[target] == nil || t.within(target) {
				continue
			}
			fd, err := scan.OpenDir(target)
			if err != nil {
				continue // a packaged link to a file, or to a path with a link on the way: judged as a link
			}
			unix.Close(fd)
			t.links[link] = target
			pending[target] = t.nameOf(link)
		}
	}
	return nil
}

// linkTarget is where a link at abs points, resolved by its text alone.
func linkTarget(abs, target string) string {
	if path.IsAbs(target) {
		return path.Clean(target)
	}
	return path.Join(path.Dir(abs), target)
}

// within reports whether p is inside a walked directory.
func (t *dpkgTree) within(p string) bool {
	for dir := range t.roots {
		if under(p, dir) {
			return true
		}
	}
	return false
}

// nameOf is the name under GOROOT of a path inside a walked directory.
func (t *dpkgTree) nameOf(p string) string {
	best := ""
	for dir := range t.roots {
		if under(p, dir) && len(dir) > len(best) {
			best = dir
		}
	}
	return path.Join(t.roots[best], strings.TrimPrefix(strings.TrimPrefix(p, best), "/"))
}

// packages lists every package that installed something walked.
func (t *dpkgTree) packages() []string {
	set := map[string]bool{}
	for p, pkgs := range t.listed {
		if t.within(p) {
			for _, pkg := range pkgs {
				set[pkg] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func (t *dpkgTree) judge(v *Verification, n seen, sums map[string]string, conf map[string]bool) {
	change := func(what string) { v.Changed = append(v.Changed, Change{n.name, what}) }
	switch {
	case n.err != nil:
		change("cannot be examined: " + n.err.Error())
	case t.listed[n.abs] == nil:
		v.Added = append(v.Added, shown(n.name, n.kind))
	case n.kind != kindLink && n.mode&0o002 != 0:
		change("writable by every user")
	case n.kind == kindFile:
		sum, ok := sums[n.abs]
		switch {
		case ok && sum != n.sum:
			change("contents differ from dpkg's md5sum")
		case !ok && !conf[n.abs]:
			change("a file where the package installed none with a checksum")
		}
	case n.kind == kindLink:
		if target := linkTarget(n.abs, n.link); t.listed[target] == nil {
			change("a link to " + n.link + ", which no package installed")
		}
	case n.kind == kindOther:
		change("now " + kindWord(n.kind))
	}
}

// removed names what the packages installed inside a walked directory and
// the walk did not find, looking through followed links as the walk did.
func (t *dpkgTree) removed(v *Verification) {
	found := make(map[string]bool, len(t.nodes))
	for _, n := range t.nodes {
		found[n.abs] = true
	}
	for p := range t.listed {
		real := p
		for link, target := range t.links {
			if under(p, link) {
				real = target + strings.TrimPrefix(p, link)
			}
		}
		if _, isRoot := t.roots[real]; found[real] || isRoot || !t.within(real) {
			continue
		}
		v.Removed = append(v.Removed, t.nameOf(real))
	}
}
