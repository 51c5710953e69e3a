package daemon

import (
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/flash"
	"github.com/gomaint/gomaint/maint/target"
)

// lowIOIntervals replace the watch's rescan intervals under low_io. A
// rescan writes nothing itself (the status and metrics only when a figure
// changed), but it reads every directory of the cache, and a limit is
// still held within seconds by the watch: only what inotify cannot see
// waits longer. The 2-second poll is one statx and stays.
var lowIOIntervals = Intervals{Poll: defaultIntervals.Poll, Degraded: 5 * time.Minute, SafetyNet: 2 * time.Hour}

// lowIO decides whether cfg's low_io is on, and says why ("" when off):
// as set, or for "auto" whether the state directory or a cache is on
// flash storage (package flash).
func (d *daemon) lowIO(cfg *config.Config, resolved []target.Resolved) string {
	switch cfg.Daemon.LowIO {
	case config.LowIOOn:
		return "low_io = true"
	case config.LowIOOff:
		return ""
	}
	paths := []string{d.opt.StateDir}
	for _, rt := range resolved {
		if rt.Path != "" && !rt.Disabled && !rt.Unresolved {
			paths = append(paths, rt.Path)
		}
	}
	for _, p := range paths {
		if r, err := flash.Of(d.opt.Sysfs, p); err == nil && r.Flash {
			return "low_io = \"auto\": " + p + ": " + r.Why
		}
	}
	return ""
}

// intervals are the lifecycle's: the Options' where set, else low_io's or
// the defaults.
func (d *daemon) intervals(low bool) Intervals {
	iv := d.opt.Intervals
	if low {
		if iv.Degraded <= 0 {
			iv.Degraded = lowIOIntervals.Degraded
		}
		if iv.SafetyNet <= 0 {
			iv.SafetyNet = lowIOIntervals.SafetyNet
		}
	}
	return iv.withDefaults()
}
