package facts

// The workers of a walk each fill their own Facts (no locks per entry);
// merge adds them up once the walk is done.

func (s *Sample) merge(o Sample) {
	s.Count += o.Count
	s.ApparentBytes += o.ApparentBytes
	for _, p := range o.Paths {
		if len(s.Paths) < MaxSamples {
			s.Paths = append(s.Paths, p)
		}
	}
}

func (f *Facts) merge(o *Facts) {
	f.ApparentBytes += o.ApparentBytes
	f.DiskBytes += o.DiskBytes
	f.Files += o.Files
	f.Dirs += o.Dirs
	f.Symlinks += o.Symlinks
	f.Others += o.Others
	if o.OldestUnix != 0 && (f.OldestUnix == 0 || o.OldestUnix < f.OldestUnix) {
		f.OldestUnix = o.OldestUnix
	}
	f.NewestUnix = max(f.NewestUnix, o.NewestUnix)
	if o.OldestEntryUnix != 0 && (f.OldestEntryUnix == 0 || o.OldestEntryUnix < f.OldestEntryUnix) {
		f.OldestEntryUnix = o.OldestEntryUnix
	}
	for i, n := range o.Ages {
		f.Ages[i] += n
	}
	l, m := &f.Layout, o.Layout
	l.Actions += m.Actions
	l.Outputs += m.Outputs
	l.ExecDirs += m.ExecDirs
	l.Versions += m.Versions
	l.Downloads += m.Downloads
	l.Toolchains += m.Toolchains
	l.VCSDirs += m.VCSDirs
	l.Transient += m.Transient
	for uid, w := range o.Owners {
		x := f.Owners[uid]
		if x == nil {
			f.Owners[uid] = w
			continue
		}
		x.Entries += w.Entries
		x.ApparentBytes += w.ApparentBytes
		if x.Example == "" {
			x.Example = w.Example
		}
	}
	for name, t := range o.Toolchains {
		x := f.Toolchains[name]
		if x == nil {
			f.Toolchains[name] = t
			continue
		}
		x.ApparentBytes += t.ApparentBytes
		x.LastUsed = max(x.LastUsed, t.LastUsed)
	}
	f.Unexpected.merge(o.Unexpected)
	f.StaleTmp.merge(o.StaleTmp)
	f.NotWritable.merge(o.NotWritable)
	f.WorldWrite.merge(o.WorldWrite)
	f.ForeignGroup.merge(o.ForeignGroup)
	f.NoSetgid.merge(o.NoSetgid)
	f.Unreadable.merge(o.Unreadable)
	f.OtherMounts.merge(o.OtherMounts)
	f.TooDeep.merge(o.TooDeep)
	f.DeepTrees.merge(o.DeepTrees)
	f.HalfRemoved.merge(o.HalfRemoved)
	f.Future.merge(o.Future)
	f.FutureMax = max(f.FutureMax, o.FutureMax)
}
