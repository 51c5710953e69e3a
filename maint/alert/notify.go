package alert

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/lock"
	"github.com/gomaint/gomaint/maint/target"
)

// Notifier turns the findings of a run into spooled alerts. The daemon and
// the CLI each make one from their configuration (paths.StateDir for
// StateDir, AlertSpool for Spool).
type Notifier struct {
	Routes   []Route
	StateDir string // alerts.json
	LockDir  string // serializes runs that update alerts.json
	Spool    Spool
	Sink     journal.Sink
	Version  string
	Now      func() time.Time // nil: time.Now
}

// Target is what an alert says of a finding's cache.
type Target struct {
	Name string
	// ConfiguredPath is the path as configured (or as `go env` gave it);
	// Path the cache's real path.
	ConfiguredPath, Path string
	// Owner is the user the cache belongs to, who must be able to write it:
	// the affected user of a finding about the cache as a whole.
	Owner *uint32
}

// Covers says which findings a run looked for: a finding it covers and
// did not report is resolved; one it does not cover stays as it was (an
// audit does not resolve a verification's findings, `audit --target build`
// not the module cache's).
type Covers func(target string, code finding.Code) bool

// CoverAll is a run that looked for everything: the daemon's status, which
// holds every finding of every job.
func CoverAll(string, finding.Code) bool { return true }

// Notify compares findings with the open ones in alerts.json and spools an
// alert to each route that takes it: for a finding that appeared, one
// still open after the route's repeat interval, or one resolved. It
// returns how many entries it spooled. Nothing here waits on a receiver.
func (n *Notifier) Notify(findings []audit.Finding, targets []Target, covers Covers) (int, error) {
	if len(n.Routes) == 0 {
		return 0, nil
	}
	now := time.Now()
	if n.Now != nil {
		now = n.Now()
	}
	release, err := lock.AcquireFile(n.LockDir, "alerts", lock.Wait)
	if err != nil {
		return 0, n.failed(fmt.Errorf("alert state: %w", err))
	}
	defer release()
	st, err := loadState(n.StateDir)
	if st == nil {
		return 0, n.failed(err)
	}
	loadErr := err
	if err := n.Spool.Make(); err != nil {
		return 0, n.failed(err)
	}
	byName := map[string]Target{}
	for _, t := range targets {
		byName[t.Name] = t
	}
	host := hostInfo()
	var entries []*Entry
	seen := map[string]bool{}
	// changed: alerts.json is rewritten only when it changes, not after
	// every run of the daemon (SD cards wear with every write).
	changed := false
	for _, f := range findings {
		k := key(f)
		if seen[k] {
			continue // one alert per finding key and run
		}
		seen[k] = true
		o := st.Open[k]
		if o == nil {
			o = &Open{Code: f.Code.String(), Severity: f.Severity.String(), Target: f.Cache, Path: f.Path, Since: now, Told: map[string]Told{}}
			st.Open[k] = o
			changed = true
		}
		rose := f.Severity.String() != o.Severity && worse(f.Severity, o.Severity)
		changed = changed || f.Severity.String() != o.Severity
		o.Severity = f.Severity.String()
		var a Alert // made only when a route is told: a snapshot is a few syscalls
		for i := range n.Routes {
			r := &n.Routes[i]
			if !r.Takes(f.Code.String(), f.Severity) {
				continue
			}
			t, told := o.Told[r.Name]
			if told && !rose && now.Sub(t.At) < r.Repeat {
				continue
			}
			if told {
				t.Repeats++
			}
			if a.Schema == 0 {
				a = makeAlert(f, byName[f.Cache], host, n.Version, now, o.Since)
				o.Last = a
			}
			t.At = now
			o.Told[r.Name] = t
			changed = true
			a := a
			a.ID = alertID(k, Firing, o.Since, t.Repeats)
			entries = append(entries, &Entry{Route: r.Name, Alert: a, Spooled: now})
		}
	}
	for _, k := range sortedKeys(st.Open) {
		o := st.Open[k]
		code, ok := finding.Lookup(o.Code)
		if seen[k] || (ok && !covers(o.Target, code)) {
			continue
		}
		delete(st.Open, k)
		changed = true
		for _, name := range sortedKeys(o.Told) {
			if !slices.ContainsFunc(n.Routes, func(r Route) bool { return r.Name == name }) {
				continue // a route since removed from the configuration
			}
			a := o.Last
			a.Status, a.Time, a.ID = Resolved, now, alertID(k, Resolved, o.Since, 0)
			end := now
			a.EndsAt = &end
			entries = append(entries, &Entry{Route: name, Alert: a, Spooled: now})
		}
	}
	var errs []error
	spooled := 0
	for _, e := range entries {
		if err := n.Spool.Put(e); err != nil {
			errs = append(errs, err)
			continue
		}
		spooled++
	}
	if changed {
		if err := st.save(n.StateDir); err != nil {
			errs = append(errs, err)
		}
	}
	if loadErr != nil {
		errs = append(errs, loadErr)
	}
	if err := errors.Join(errs...); err != nil {
		return spooled, n.failed(err)
	}
	return spooled, nil
}

// failed journals an alert that could not be spooled or a state that could
// not be kept: alerts must never be lost silently.
func (n *Notifier) failed(err error) error {
	if n.Sink != nil {
		journal.Emit(n.Sink, journal.Event{Type: journal.AlertNotSpooled, Priority: journal.Err,
			Message: "alerts not spooled: " + err.Error(), Fields: map[string]string{"GOMAINT_OUTCOME": "not_spooled"}})
	}
	return err
}

// key names a finding across runs: its target, code and path.
func key(f audit.Finding) string { return f.Cache + "\x00" + f.Code.String() + "\x00" + f.Path }

func worse(s finding.Severity, than string) bool {
	t, err := finding.ParseSeverity(than)
	return err != nil || s > t
}

func makeAlert(f audit.Finding, t Target, h host, version string, now, since time.Time) Alert {
	a := Alert{Schema: Schema, Status: Firing, Code: f.Code.String(), Severity: f.Severity.String(), Target: f.Cache,
		Message: f.Detail, Fix: f.Fix, Path: realPath(f.Path, t), Host: h.name, MachineID: h.machineID,
		Version: version, Time: now, StartsAt: since}
	if t.ConfiguredPath != "" && t.ConfiguredPath != t.Path {
		a.ConfiguredPath = t.ConfiguredPath
	}
	if s, err := TakeSnapshot(a.Path); err == nil {
		a.Mode = s
	}
	switch {
	case f.Path == t.Path && t.Owner != nil:
		acct := userAccount(*t.Owner)
		a.UID = &acct
	case a.Mode != nil:
		acct := a.Mode.Owner
		a.UID = &acct
	}
	return a
}

// realPath is path with its cache's configured root replaced by the real
// one. Only the root is resolved, by the target's resolution: a link
// inside a cache is never followed.
func realPath(path string, t Target) string {
	if t.ConfiguredPath == "" || t.Path == "" || t.ConfiguredPath == t.Path {
		return path
	}
	if rel, ok := strings.CutPrefix(path, t.ConfiguredPath); ok && (rel == "" || rel[0] == '/') {
		return filepath.Join(t.Path, rel)
	}
	return path
}

type host struct{ name, machineID string }

func hostInfo() host {
	var h host
	h.name, _ = os.Hostname()
	if id, err := os.ReadFile("/etc/machine-id"); err == nil {
		h.machineID = strings.TrimSpace(string(id))
	}
	return h
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortEntries(es []*Entry) {
	slices.SortStableFunc(es, func(a, b *Entry) int {
		if c := a.Spooled.Compare(b.Spooled); c != 0 {
			return c
		}
		return strings.Compare(a.fileName(), b.fileName())
	})
}

// FromResolved describes resolved targets for alerts (the daemon's).
func FromResolved(rts []target.Resolved) []Target {
	out := make([]Target, 0, len(rts))
	for _, rt := range rts {
		out = append(out, Target{Name: rt.Name, ConfiguredPath: cmp.Or(rt.Target.Path, rt.Path), Path: rt.Path})
	}
	return out
}

// FromReport describes an audit's caches for alerts (the CLI's), with the
// owner each belongs to.
func FromReport(rep *audit.Report, cfg *config.Config) []Target {
	out := make([]Target, 0, len(rep.Caches))
	for _, c := range rep.Caches {
		t := Target{Name: c.Name, ConfiguredPath: c.Path, Path: c.Path}
		if c.Owner != "" {
			uid := c.OwnerUID
			t.Owner = &uid
		}
		for _, ct := range cfg.Targets {
			if ct.Name == c.Name && ct.Path != "" {
				t.ConfiguredPath = ct.Path
			}
		}
		out = append(out, t)
	}
	return out
}
