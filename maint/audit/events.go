package audit

import (
	"fmt"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
)

// emit sends the GOROOT verdict, one audit event per cache and one event
// per finding.
func emit(sink journal.Sink, rep *Report, caches []*Cache) {
	if sink == nil {
		return
	}
	if rep.GOROOT.OK {
		journal.Emit(sink, journal.Event{Type: journal.GorootOK, Priority: journal.Info,
			Message: fmt.Sprintf("GOROOT %s is usable (%s)", rep.GOROOT.Path, rep.GOROOT.Version),
			Fields:  map[string]string{"GOMAINT_GOROOT": rep.GOROOT.Path, "GOMAINT_GO_VERSION": rep.GOROOT.Version}})
	}
	perCache := map[string]int{}
	for _, f := range rep.Findings {
		perCache[f.Cache]++
	}
	for i, c := range caches {
		cr := rep.Caches[i]
		fields := cacheFields(c)
		fields["GOMAINT_FINDINGS"] = journal.Int(int64(perCache[c.Target.Name]))
		msg := fmt.Sprintf("%s cache %s: does not exist yet", c.Target.Kind, c.Path)
		if cr.Facts != nil {
			f := cr.Facts
			fields["GOMAINT_APPARENT_BYTES"] = journal.Int(f.ApparentBytes)
			fields["GOMAINT_DISK_BYTES"] = journal.Int(f.DiskBytes)
			fields["GOMAINT_FILES"] = journal.Int(f.Files)
			fields["GOMAINT_DIRS"] = journal.Int(f.Dirs)
			fields["GOMAINT_FREE_BYTES"] = journal.Int(cr.FS.FreeBytes)
			fields["GOMAINT_FREE_INODES"] = journal.Int(cr.FS.FreeInodes)
			fields["GOMAINT_DURATION_MSEC"] = journal.Int(cr.ScanMS)
			if cr.LimitBytes > 0 {
				fields["GOMAINT_LIMIT_BYTES"] = journal.Int(cr.LimitBytes)
			}
			msg = fmt.Sprintf("%s cache %s: %s in %d files, %d findings",
				c.Target.Kind, c.Path, config.FormatSize(f.DiskBytes), f.Files, perCache[c.Target.Name])
		}
		journal.Emit(sink, journal.Event{Type: journal.Audit, Priority: journal.Info, Message: msg, Fields: fields})
	}
	byName := map[string]*Cache{}
	for _, c := range caches {
		byName[c.Target.Name] = c
	}
	for _, f := range rep.Findings {
		fields := map[string]string{"GOMAINT_FINDING": f.Code.String(), "GOMAINT_SEVERITY": f.Severity.String(),
			"GOMAINT_PATH": f.Path, "GOMAINT_FIX": f.Fix}
		if c := byName[f.Cache]; c != nil {
			for k, v := range cacheFields(c) {
				fields[k] = v
			}
		} else {
			fields["GOMAINT_GOROOT"] = rep.GOROOT.Path
			fields["GOMAINT_REASON"] = f.Detail
		}
		if f.Count != 0 {
			fields["GOMAINT_COUNT"] = journal.Int(f.Count)
		}
		for k, v := range map[string]int64{"GOMAINT_APPARENT_BYTES": f.ApparentBytes, "GOMAINT_DISK_BYTES": f.DiskBytes, "GOMAINT_FREE_BYTES": f.FreeBytes} {
			if v != 0 {
				fields[k] = journal.Int(v)
			}
		}
		journal.Emit(sink, journal.Event{Type: f.Code.Type(), Priority: f.Severity.Priority(), Message: f.Code.String() + ": " + f.Detail, Fields: fields})
	}
}

func cacheFields(c *Cache) map[string]string {
	return map[string]string{"GOMAINT_TARGET": c.Target.Name, "GOMAINT_CACHE_KIND": string(c.Target.Kind), "GOMAINT_CACHE_PATH": c.Path}
}
