package facts

import (
	"bytes"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/layout"
	"github.com/gomaint/gomaint/maint/scan"
)

// visitor is one worker's share of a walk.
type visitor struct {
	opt  *Options
	now  int64
	f    *Facts
	mine *Owner // the writer's own totals
}

func (v *visitor) Visit(d *scan.Dir, e *scan.Entry) scan.Class {
	f, st := v.f, e.Stat
	f.DiskBytes += e.Blocks()
	var size int64
	switch e.Type() {
	case unix.S_IFREG:
		size = int64(st.Size)
		f.Files++
		f.ApparentBytes += size
		m := e.Mtime()
		if f.OldestUnix == 0 || m < f.OldestUnix {
			f.OldestUnix = m
		}
		f.NewestUnix = max(f.NewestUnix, m)
		f.Ages[ageBucket(v.now-m)]++
	case unix.S_IFDIR:
		f.Dirs++
	case unix.S_IFLNK:
		f.Symlinks++
	default:
		f.Others++
	}
	v.odd(d, e)
	kind, class := layout.Entry(d, e.Name, e.IsDir(), v.opt.Build)
	if e.IsLink() && kind != layout.Surprise {
		kind = layout.Surprise // go never puts a symbolic link in a cache
	}
	v.layout(d, e, kind, size)
	if st.Uid != v.opt.Writer.UID {
		f.owner(st.Uid, size, d.Join(e.Name))
	} else {
		if v.mine == nil { // the common case, without a map lookup per entry
			f.owner(st.Uid, 0, "")
			f.Owners[st.Uid].Entries--
			v.mine = f.Owners[st.Uid]
		}
		v.mine.Entries++
		v.mine.ApparentBytes += size
	}
	if e.Perm()&0o002 != 0 && !e.IsLink() {
		f.WorldWrite.Add(d.Join(e.Name), 0)
	}
	if v.opt.Shared && !e.IsLink() {
		if st.Gid != v.opt.Group {
			f.ForeignGroup.Add(d.Join(e.Name), size)
		}
		if e.IsDir() && layout.MustBeWritable(class) && st.Mode&unix.S_ISGID == 0 {
			f.NoSetgid.Add(d.Join(e.Name), 0)
		}
	}
	if (e.IsDir() && layout.MustBeWritable(class) && kind != layout.Surprise) ||
		(e.IsFile() && layout.RewrittenFile(d.Class, e.Name)) {
		if !writable(st, v.opt.Writer) {
			f.NotWritable.Add(d.Join(e.Name), 0)
		}
	}
	return class
}

func (v *visitor) layout(d *scan.Dir, e *scan.Entry, kind layout.Kind, size int64) {
	l := &v.f.Layout
	if kind == layout.ActionEntry || kind == layout.OutputEntry || kind == layout.ExecEntry {
		if m := e.Mtime(); v.f.OldestEntryUnix == 0 || m < v.f.OldestEntryUnix {
			v.f.OldestEntryUnix = m
		}
	}
	switch kind {
	case layout.Surprise:
		v.f.Unexpected.Add(d.Join(e.Name), size)
	case layout.Transient:
		l.Transient++
		if v.now-e.Mtime() > 3600 { // go finishes or removes these within minutes
			v.f.StaleTmp.Add(d.Join(e.Name), size)
		}
	case layout.ActionEntry:
		l.Actions++
	case layout.OutputEntry:
		l.Outputs++
	case layout.ExecEntry:
		l.ExecDirs++
	case layout.VersionDir:
		l.Versions++
	case layout.ToolchainDir:
		l.Toolchains++
		v.toolchain(string(e.Name)).LastUsed = max(v.toolchain(string(e.Name)).LastUsed, e.Mtime())
	case layout.ModFile:
		l.Downloads++
	case layout.VCSDir:
		l.VCSDirs++
	}
	if name, ok := layout.ToolchainName(d.Path, e.Name, d.Class); ok && e.IsFile() {
		t := v.toolchain(name)
		t.ApparentBytes += size
		if d.Class == layout.Toolchain {
			t.LastUsed = max(t.LastUsed, e.Atime())
		}
	}
}

// futureSlack is how far ahead of the clock a timestamp may be before it
// counts as in the future: clocks of a few machines sharing a cache differ.
const futureSlack = 60

// odd notes what a trim cannot judge by itself: future timestamps,
// interrupted module removals and over-deep trees.
func (v *visitor) odd(d *scan.Dir, e *scan.Entry) {
	st := e.Stat
	if t := max(st.Mtime.Sec, v.atimeIfMod(st)); t > v.now+futureSlack {
		v.f.Future.Add(d.Join(e.Name), 0)
		v.f.FutureMax = max(v.f.FutureMax, t)
	}
	if e.IsDir() && d.Depth == scan.MaxSubtreeDepth {
		v.f.DeepTrees.Add(d.Join(e.Name), 0)
	}
	if d.Class == layout.AtV && e.IsFile() && bytes.HasSuffix(e.Name, []byte(".partial")) && v.now-e.Mtime() > 3600 {
		v.f.HalfRemoved.Add(layout.VersionOfDownload(d.Path, string(e.Name)), 0)
	}
}

// atimeIfMod is the atime of a module cache's regular file (the last use
// a module trim goes by), else 0.
func (v *visitor) atimeIfMod(st *unix.Statx_t) int64 {
	if v.opt.Build || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0
	}
	return st.Atime.Sec
}

func (v *visitor) toolchain(name string) *Toolchain {
	t := v.f.Toolchains[name]
	if t == nil {
		t = &Toolchain{}
		v.f.Toolchains[name] = t
	}
	return t
}

func (v *visitor) Report(d *scan.Dir, name []byte, p scan.Problem, err error) {
	path := d.Path
	if name != nil {
		path = d.Join(name)
	}
	if path == "" {
		path = "."
	}
	switch p {
	case scan.OtherMount:
		v.f.OtherMounts.Add(path, 0)
	case scan.TooDeep:
		v.f.TooDeep.Add(path, 0)
	default:
		v.f.Unreadable.Add(path+": "+errText(err), 0)
	}
}

func errText(err error) string {
	if err == nil {
		return "unreadable"
	}
	return err.Error()
}

func ageBucket(age int64) int {
	for i, b := range AgeBuckets {
		if age < int64(b/time.Second) {
			return i
		}
	}
	return len(AgeBuckets)
}

// writable reports whether id may create entries in (or rewrite) the entry,
// by its mode bits. Root may write anything. POSIX ACLs are not consulted:
// for a private cache the mode bits decide.
func writable(st *unix.Statx_t, id Identity) bool {
	if id.UID == 0 {
		return true
	}
	mode := uint32(st.Mode)
	if st.Uid == id.UID {
		return mode&0o200 != 0
	}
	for _, g := range id.GIDs {
		if g == st.Gid {
			return mode&0o020 != 0
		}
	}
	return mode&0o002 != 0
}
