// Package repair restores the ownership and modes a private cache needs:
// every entry owned by the cache's owner, directories and rewritten files
// writable by the owner, nothing writable by others, and extracted module
// trees read-only as go makes them. Every change goes through safefs, so
// links are never followed and hard-linked files never changed.
package repair

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/facts"
	"github.com/gomaint/gomaint/maint/layout"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
)

// Options of one repair.
type Options struct {
	Build  bool // a build cache, else a module cache
	DryRun bool
	// Owner and Group are given to entries owned by anyone but Owner.
	Owner, Group uint32
	// ModWritable keeps module trees writable (GOFLAGS=-modcacherw).
	ModWritable bool
	// Shared: entries keep their owners, but belong to Group, which may
	// read everything and write what go writes (modes and ACLs).
	Shared  bool
	Workers int
	// Changed hears of every change (made, or planned in a dry run); it
	// must be safe for concurrent use. It may be nil.
	Changed func(Change)
}

// Change is one planned or made change.
type Change struct {
	Path string `json:"path"`
	What string `json:"what"` // "owner", "mode", or "remove" (a module version; From is its finding)
	From string `json:"from"`
	To   string `json:"to"`
	// A removed module version (path@version), and the command that has
	// go download it again.
	Module  string `json:"module,omitempty"`
	Refetch string `json:"refetch,omitempty"`
}

// Result sums up one repair. Every entry left alone is counted and sampled.
type Result struct {
	DryRun     bool         `json:"dry_run"`
	Owners     int64        `json:"owners"` // entries given to the owner (shared: the group)
	ACLs       int64        `json:"acls"`   // shared: group ACLs set
	Modes      int64        `json:"modes"`  // entries whose mode changed
	NeedRoot   int64        `json:"need_root"`
	Hardlinked facts.Sample `json:"hardlinked"`
	Links      facts.Sample `json:"links"` // symbolic links: never followed
	Special    facts.Sample `json:"special"`
	Mounts     facts.Sample `json:"mounts"`
	Unreadable facts.Sample `json:"unreadable"`
	TooDeep    facts.Sample `json:"too_deep"`
	Failed     facts.Sample `json:"failed"`
	Samples    []string     `json:"samples,omitempty"`
	mu         sync.Mutex
}

// Fix repairs the tree under root.
func Fix(ctx context.Context, root *safefs.Root, opt Options) (*Result, error) {
	sroot, err := scan.RootOf(root.FD)
	if err != nil {
		return nil, err
	}
	res := &Result{DryRun: opt.DryRun}
	f := &fixer{root: root, opt: &opt, res: res}
	f.fix(root.FD, ".", ".", &sroot.Stat, want{write: true})
	_, err = scan.Walk(ctx, root.FD, sroot, scan.Options{Workers: opt.Workers}, func() *fixer { return f })
	return res, err
}

type fixer struct {
	root *safefs.Root
	opt  *Options
	res  *Result
}

// want says what the layout asks of an entry.
type want struct {
	write    bool // go creates or rewrites entries in it, or rewrites it
	readOnly bool // part of an extracted module tree
}

func (f *fixer) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	_, class := layout.Entry(d, e.Name, e.IsDir(), f.opt.Build)
	w := want{
		write: (e.IsDir() && layout.MustBeWritable(class)) || (e.IsFile() && layout.RewrittenFile(d.Class, e.Name)),
		// The version directory itself belongs to its read-only tree.
		readOnly: !f.opt.ModWritable && (inModuleTree(d.Class) || (e.IsDir() && inModuleTree(class))),
	}
	f.fix(d.FD(), string(e.Name), d.Join(e.Name), e.Stat, w)
	return class
}

func (f *fixer) Report(d *scan.Dir, name []byte, p scan.Problem, err error) {
	path := d.Join(name)
	f.res.record(func() {
		switch p {
		case scan.OtherMount:
			f.res.Mounts.Add(path, 0)
		case scan.TooDeep:
			f.res.TooDeep.Add(path, 0)
		default:
			f.res.Unreadable.Add(path, 0)
		}
	})
}

func inModuleTree(c scan.Class) bool { return c == layout.ModVersion || c == layout.Toolchain }

// mode returns the permission bits an entry should have. Go never makes
// setuid, setgid or sticky entries, so none is kept: a planted setuid file
// that fix gives to root must not become a setuid-root program. A shared
// cache's directories get setgid, which makes new entries join the group.
func mode(st *unix.Statx_t, w want, shared bool) uint32 {
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	m := uint32(st.Mode) & 0o777 &^ 0o002 // never writable by others
	if shared && isDir {
		m |= uint32(st.Mode) & 0o2000
	}
	if shared {
		m |= 0o040 // the group reads everything
		if isDir {
			m |= 0o010
		}
	}
	switch {
	case w.write && isDir && shared:
		m |= 0o2770 // setgid: new entries join the group
	case w.write && isDir:
		m |= 0o700
	case w.write && shared:
		m |= 0o660
	case w.write:
		m |= 0o600
	case w.readOnly && isDir:
		m = m&^0o222 | 0o500
	case w.readOnly:
		m = m&^0o222 | 0o400
	}
	return m
}

// fix compares one entry with what it should be and changes it.
func (f *fixer) fix(dirfd int, name, path string, st *unix.Statx_t, w want) {
	res, opt := f.res, f.opt
	typ := st.Mode & unix.S_IFMT
	if typ == unix.S_IFLNK {
		res.record(func() { res.Links.Add(path, 0) })
	}
	if typ != unix.S_IFLNK && typ != unix.S_IFREG && typ != unix.S_IFDIR {
		res.record(func() { res.Special.Add(path, 0) })
		return
	}
	a := safefs.Attr{UID: -1, GID: -1, Mode: safefs.NoMode}
	var changes []Change
	mine := st.Uid == uint32(unix.Geteuid()) || unix.Geteuid() == 0
	switch {
	case opt.Shared && st.Gid != opt.Group && !mine:
		res.record(func() { res.NeedRoot++ })
	case opt.Shared && st.Gid != opt.Group:
		a.GID = int(opt.Group)
		changes = append(changes, Change{Path: path, What: "owner", From: fmt.Sprintf("%d:%d", st.Uid, st.Gid), To: fmt.Sprintf("%d:%d", st.Uid, opt.Group)})
	case !opt.Shared && st.Uid != opt.Owner && unix.Geteuid() != 0:
		res.record(func() { res.NeedRoot++ })
	case !opt.Shared && st.Uid != opt.Owner:
		a.UID, a.GID = int(opt.Owner), int(opt.Group)
		changes = append(changes, Change{Path: path, What: "owner", From: fmt.Sprintf("%d:%d", st.Uid, st.Gid), To: fmt.Sprintf("%d:%d", opt.Owner, opt.Group)})
	}
	if m := mode(st, w, opt.Shared); typ != unix.S_IFLNK && m != uint32(st.Mode)&0o7777 && (st.Uid == opt.Owner || mine) {
		a.Mode = m
		changes = append(changes, Change{Path: path, What: "mode", From: fmt.Sprintf("%04o", st.Mode&0o7777), To: fmt.Sprintf("%04o", m)})
	}
	needACL := opt.Shared && w.write && mine && !f.root.HasGroupACL(dirfd, name, typ == unix.S_IFDIR, opt.Group)
	if needACL {
		changes = append(changes, Change{Path: path, What: "acl", To: fmt.Sprintf("group:%d:rw", opt.Group)})
	}
	if len(changes) == 0 {
		return
	}
	if typ == unix.S_IFREG && st.Nlink > 1 {
		res.record(func() { res.Hardlinked.Add(path, 0) })
		return
	}
	if !opt.DryRun {
		err := f.root.SetAttr(dirfd, name, a)
		switch {
		case errors.Is(err, unix.ENOENT):
			return // gone since listed
		case errors.Is(err, safefs.ErrHardlinked):
			res.record(func() { res.Hardlinked.Add(path, 0) })
			return
		case errors.Is(err, safefs.ErrOtherMount):
			res.record(func() { res.Mounts.Add(path, 0) })
			return
		case err != nil:
			res.record(func() { res.Failed.Add(path+": "+err.Error(), 0) })
			return
		}
		if needACL {
			if err := f.root.SetGroupACL(dirfd, name, opt.Group); err != nil {
				res.record(func() { res.Failed.Add(path+": "+err.Error(), 0) })
				return
			}
		}
	}
	res.record(func() {
		for _, c := range changes {
			switch c.What {
			case "owner":
				res.Owners++
			case "acl":
				res.ACLs++
			default:
				res.Modes++
			}
			if len(res.Samples) < facts.MaxSamples {
				res.Samples = append(res.Samples, c.Path)
			}
		}
	})
	if opt.Changed != nil {
		for _, c := range changes {
			opt.Changed(c)
		}
	}
}

func (r *Result) record(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}
