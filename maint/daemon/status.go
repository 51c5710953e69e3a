package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
)

// Status is what `gomaint status` shows: the daemon's own view, answered
// over the control socket, and saved to the state directory after every
// run so that it can be shown when no daemon runs.
type Status struct {
	PID     int           `json:"pid"`
	Version string        `json:"version"`
	Scope   string        `json:"scope"`
	Config  string        `json:"config"`
	Started time.Time     `json:"started"`
	State   string        `json:"state"` // starting, ready, reloading, stopping
	Running string        `json:"running,omitempty"`
	GOROOT  goroot.Result `json:"goroot"`
	// GOROOTRequired makes a bad GOROOT an error rather than a warning.
	GOROOTRequired bool           `json:"goroot_required"`
	Targets        []TargetStatus `json:"targets"`
	// GOROOTVerify says how the last scheduled verification of GOROOT
	// went; Findings are its machine-wide findings (GOROOT_MODIFIED),
	// which stand until the next one.
	GOROOTVerify string          `json:"goroot_verify,omitempty"`
	Findings     []audit.Finding `json:"findings,omitempty"`
	// LowIO says why low_io is on; "" when it is off.
	LowIO string `json:"low_io,omitempty"`
	// NextAudit and NextClean are zero when not scheduled.
	NextAudit time.Time `json:"next_audit"`
	NextClean time.Time `json:"next_clean"`
	// Updated is when the status was taken; in the saved file, when what
	// it says last changed (SaveStatus).
	Updated time.Time `json:"updated"`
	// IO is what the daemon wrote, on the control socket only.
	IO *IO `json:"io,omitempty"`
	// BootID tells a later audit whether the machine booted since
	// (CACHE_WIPED's causes).
	BootID string `json:"boot_id,omitempty"`

	// runningTarget is the target of the job Running tells of, "" for all.
	runningTarget string
}

// only is s with just the targets may allows, and what runs told only
// when it is about one of them (or all targets).
func (s *Status) only(may func(target string) bool) *Status {
	o := *s
	o.Targets = nil
	for _, t := range s.Targets {
		if may(t.Name) {
			o.Targets = append(o.Targets, t)
		}
	}
	if s.runningTarget != "" && !may(s.runningTarget) {
		o.Running = ""
	}
	return &o
}

// TargetStatus is one target's figures, limits, runs and open findings.
type TargetStatus struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Path       string `json:"path"`
	Group      string `json:"group,omitempty"` // who may see and act on it, with root and the daemon's user
	DiskBytes  int64  `json:"disk_bytes"`      // st_blocks*512, what max_size limits
	Files      int64  `json:"files"`
	LimitBytes int64  `json:"limit_bytes"`
	// Watched: the figures are kept live from inotify events (an estimate
	// that errs high between rescans); otherwise they date from the last scan.
	Watched      bool  `json:"watched"`
	FSFreeBytes  int64 `json:"fs_free_bytes"`
	FSFreeInodes int64 `json:"fs_free_inodes"`

	LastAudit        time.Time `json:"last_audit"`
	LastClean        time.Time `json:"last_clean"`
	LastCleanSuccess time.Time `json:"last_clean_success"`
	LastCleanResult  string    `json:"last_clean_result,omitempty"`
	TrimFreedTotal   int64     `json:"trim_freed_bytes_total"`
	UsesRecorded     int64     `json:"uses_recorded,omitempty"`
	// Verification of a module cache: when it last ran, when it last
	// ended without an error finding, what it found (absent, its counts,
	// whether they could be remembered), and the module versions it
	// counted by result (a counter since the daemon started).
	LastVerify        time.Time        `json:"last_verify,omitzero"`
	LastVerifySuccess time.Time        `json:"last_verify_success,omitzero"`
	LastVerifyResult  string           `json:"last_verify_result,omitempty"`
	VerifyModules     map[string]int64 `json:"verify_modules_total,omitempty"`

	// Watch is the watch's state: "" (not watched: module caches, no
	// limit), absent, watching or degraded; WatchDetail says why.
	Watch       string `json:"watch,omitempty"`
	WatchDetail string `json:"watch_detail,omitempty"`

	// Root identifies the cache directory last seen, for a later audit to
	// tell a cache made anew (CACHE_WIPED).
	Root *audit.RootID `json:"root,omitempty"`
	// OldestEntryUnix: the oldest build cache entry at the last audit.
	OldestEntryUnix int64 `json:"oldest_entry_unix,omitempty"`
	// Stats: hits, misses, writes and trims (gomaint stats).
	Stats *CacheStats `json:"stats,omitempty"`

	Findings []audit.Finding `json:"findings"`
	Error    string          `json:"error,omitempty"`
}

// StatusLine is the one line systemd shows as the unit's status, e.g.
// "build 3.2GiB/10GiB, mod 5.1GiB; last clean 02:10, next 03:00".
func (s *Status) StatusLine() string {
	var parts []string
	for _, t := range s.Targets {
		p := t.Name + " " + config.FormatSize(t.DiskBytes)
		if t.LimitBytes > 0 {
			p += "/" + config.FormatSize(t.LimitBytes)
		}
		if n := len(t.Findings); n > 0 {
			p += fmt.Sprintf(" (%d findings)", n)
		}
		if t.Watch == "degraded" {
			p += " (watch degraded: enforced by rescans)"
		}
		parts = append(parts, p)
	}
	line := strings.Join(parts, ", ")
	var lastClean, lastAudit time.Time
	for _, t := range s.Targets {
		if t.LastClean.After(lastClean) {
			lastClean = t.LastClean
		}
		if t.LastAudit.After(lastAudit) {
			lastAudit = t.LastAudit
		}
	}
	var runs []string
	if !lastAudit.IsZero() {
		runs = append(runs, "last audit "+clock(lastAudit))
	}
	if !s.NextAudit.IsZero() {
		runs = append(runs, "next "+clock(s.NextAudit))
	}
	if !lastClean.IsZero() {
		runs = append(runs, "last clean "+clock(lastClean))
	}
	if !s.NextClean.IsZero() {
		runs = append(runs, "next clean "+clock(s.NextClean))
	}
	if len(runs) > 0 {
		line += "; " + strings.Join(runs, ", ")
	}
	if s.Running != "" {
		line += "; " + s.Running
	}
	return line
}

// clock shows a time of day, with the date when it is not today.
func clock(t time.Time) string {
	if y, m, d := time.Now().Date(); t.Year() == y && t.Month() == m && t.Day() == d {
		return t.Format("15:04")
	}
	return t.Format("Jan 2 15:04")
}

const stateFile = "status.json"

// groupFile holds what members of group gid may see of the status.
func groupFile(gid string) string { return "status-" + gid + ".json" }

// SaveStatus writes s to dir with safefs.WriteChanged, so a reader never
// sees half of it. The file has the control socket's audience: the whole
// status in status.json, which only the daemon's user can read, and for
// each group of a target status-GID.json, readable by that group, with the
// targets of that group alone. Files of groups no target has any more go.
//
// A file whose content would not change but for its updated time is left
// as it is (flash storage wears with every write): its updated time says
// when what it says last changed. All files are written before one fsync
// of dir.
func SaveStatus(dir string, s *Status) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	main, err := statusFile(dir, stateFile, s, -1)
	if err != nil {
		return err
	}
	files := []safefs.File{main}
	keep := map[string]bool{stateFile: true}
	var errs []error
	for _, g := range statusGroups(s) {
		grp, err := user.LookupGroup(g)
		if err != nil {
			errs = append(errs, fmt.Errorf("save status for group %s: %w", g, err))
			continue
		}
		gid, _ := strconv.Atoi(grp.Gid)
		keep[groupFile(grp.Gid)] = true
		f, err := statusFile(dir, groupFile(grp.Gid), s.only(func(name string) bool { return s.groupOf(name) == g }), gid)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files = append(files, f)
	}
	if _, err := safefs.WriteChanged(dir, files...); err != nil {
		errs = append(errs, fmt.Errorf("save status in %s: %w", dir, err))
	}
	return errors.Join(append(errs, removeStale(dir, keep))...)
}

// statusFile renders v as dir/name: 0600, or 0640 for group gid (>= 0).
// Unless its content changed, it keeps the updated time the file has.
func statusFile(dir, name string, v *Status, gid int) (safefs.File, error) {
	perm := uint32(0o600)
	if gid >= 0 {
		perm = 0o640
	}
	st := *v
	st.IO = nil
	render := func() ([]byte, error) {
		data, err := json.MarshalIndent(&st, "", "  ")
		return append(data, '\n'), err
	}
	if old, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
		var saved struct {
			Updated time.Time `json:"updated"`
		}
		if json.Unmarshal(old, &saved) == nil {
			st.Updated = saved.Updated
			if same, err := render(); err == nil && bytes.Equal(same, old) {
				return safefs.File{Name: name, Data: same, Perm: perm, Gid: gid}, nil
			}
		}
	}
	st.Updated = v.Updated
	data, err := render()
	if err != nil {
		return safefs.File{}, fmt.Errorf("save status in %s: %w", filepath.Join(dir, name), err)
	}
	return safefs.File{Name: name, Data: data, Perm: perm, Gid: gid}, nil
}

// statusGroups lists the groups of s's targets, each once.
func statusGroups(s *Status) []string {
	var gs []string
	for _, t := range s.Targets {
		if t.Group != "" && !slices.Contains(gs, t.Group) {
			gs = append(gs, t.Group)
		}
	}
	return gs
}

func (s *Status) groupOf(target string) string {
	for _, t := range s.Targets {
		if t.Name == target {
			return t.Group
		}
	}
	return ""
}

// removeStale removes the status-GID.json files of dir not in keep.
func removeStale(dir string, keep map[string]bool) error {
	dfd, err := scan.OpenDir(dir)
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	defer unix.Close(dfd)
	names, err := safefs.ReadNames(dfd)
	if err != nil {
		return fmt.Errorf("state directory %s: %w", dir, err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "status-") && strings.HasSuffix(n, ".json") && !keep[n] {
			if err := unix.Unlinkat(dfd, n, 0); err != nil && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("remove %s: %w", filepath.Join(dir, n), err)
			}
		}
	}
	return nil
}

// LoadStatus reads the status the daemon saved last: all of it, or, for a
// member of targets' groups who may not read that, the parts for their
// groups.
func LoadStatus(dir string) (*Status, error) {
	st, err := loadJSON(filepath.Join(dir, stateFile))
	if !errors.Is(err, fs.ErrPermission) {
		return st, err
	}
	gids, _ := os.Getgroups()
	gids = append(gids, os.Getgid())
	var merged *Status
	for _, gid := range gids {
		part, gerr := loadJSON(filepath.Join(dir, groupFile(strconv.Itoa(gid))))
		if gerr != nil {
			continue
		}
		if merged == nil {
			merged = part
			continue
		}
		for _, t := range part.Targets {
			if !slices.ContainsFunc(merged.Targets, func(m TargetStatus) bool { return m.Name == t.Name }) {
				merged.Targets = append(merged.Targets, t)
			}
		}
	}
	if merged == nil {
		return nil, fmt.Errorf("%w: the saved status is for root, the daemon's user and members of a target's group", err)
	}
	return merged, nil
}

func loadJSON(path string) (*Status, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}
