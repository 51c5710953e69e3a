package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/safetext"
)

// snapshot copies the status, with live figures from the watches.
func (d *daemon) snapshot() *Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.status
	s.Targets = nil
	now := time.Now()
	for _, t := range d.targets {
		if tl := d.tallies[t.rt.Name]; tl != nil {
			tl.collect(now)
			tl.unpublished = false
		}
		ts := t.status
		ts.Stats = d.stats(t, now)
		if w := t.watch.Load(); w != nil {
			ts.DiskBytes, ts.Files = w.Estimate()
			ts.UsesRecorded = w.Refreshed()
		}
		s.Targets = append(s.Targets, ts)
	}
	s.Updated = time.Now()
	s.IO = d.io()
	return &s
}

func (d *daemon) statusLine() string { return d.snapshot().StatusLine() }

// publish tells systemd, the state directory and (when configured)
// Prometheus what the last run found.
func (d *daemon) publish() {
	st := d.snapshot()
	d.opt.Notify(statusNote(st.StatusLine()))
	d.alert(st)
	if err := SaveStatus(d.opt.StateDir, st); err != nil {
		d.warnOnce("state", err)
	}
	d.saveStats(false)
	if dir := d.cfg.Daemon.MetricsDir; dir != "" {
		m := metricsOf(st)
		m.Alerts = d.alertFigures()
		if err := d.writeMetrics(dir, m); err != nil {
			d.warnOnce("metrics", err)
		}
	}
}

// writeMetrics writes the textfile under the metrics lock: gomaint run
// adds to the build failure counter in the same file meanwhile, and
// metrics.Write carries it over only from a file no one else rewrites
// between its read and its rename. Without the lock the file waits for
// the next run.
func (d *daemon) writeMetrics(dir string, m metrics.Snapshot) error {
	release, err := metrics.Lock(d.opt.LockDir)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer release()
	return metrics.Write(dir, m)
}

// metricsOf turns a status into the textfile's figures.
func metricsOf(st *Status) metrics.Snapshot {
	s := metrics.Snapshot{GorootOK: st.GOROOT.OK}
	if !st.GOROOT.OK && !st.GOROOT.Code.IsZero() {
		s.Findings = append(s.Findings, metrics.Finding{Code: st.GOROOT.Code.String(), Severity: st.GOROOT.Severity(st.GOROOTRequired).String(), Count: 1})
	}
	s.Findings = append(s.Findings, metrics.CountFindings(st.Findings)...)
	for _, t := range st.Targets {
		s.Targets = append(s.Targets, metrics.Target{Name: t.Name, Kind: t.Kind, Path: t.Path, DiskBytes: t.DiskBytes, Files: t.Files,
			LimitBytes: t.LimitBytes, FSFreeBytes: t.FSFreeBytes, FSFreeInodes: t.FSFreeInodes, TrimFreedBytesTotal: t.TrimFreedTotal,
			LastAudit: t.LastAudit, LastCleanSuccess: t.LastCleanSuccess, Watch: t.Watch,
			VerifyModules: t.VerifyModules, LastVerifySuccess: t.LastVerifySuccess,
			Counts: countsOf(t.Stats), EvictedBytesTotal: evictedOf(t.Stats), OldestEntryUnix: t.OldestEntryUnix})
		s.Findings = append(s.Findings, metrics.CountFindings(t.Findings)...)
	}
	return s
}

func countsOf(s *CacheStats) *metrics.Counts {
	if s == nil || !s.Counted {
		return nil
	}
	return &metrics.Counts{Hits: s.Total.Hits, Misses: s.Total.Misses, WrittenBytes: s.Total.WrittenBytes, Partial: s.Partial != ""}
}

func evictedOf(s *CacheStats) int64 {
	if s == nil {
		return 0
	}
	return s.Total.EvictedBytes
}

// warnOnce reports a failure to keep state or metrics on stderr (the
// journal, under systemd) the first time it happens, not after every run.
func (d *daemon) warnOnce(what string, err error) {
	if d.firstTime(what) {
		safetext.Fprintf(os.Stderr, "gomaint serve: cannot write %s: %v\n", what, err)
	}
}

// firstTime reports whether what is said for the first time in this
// daemon's life.
func (d *daemon) firstTime(what string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.warned == nil {
		d.warned = map[string]bool{}
	}
	seen := d.warned[what]
	d.warned[what] = true
	return !seen
}

// serveControl answers the control socket until it is closed. Who is at
// the other end is known before a byte is read: the caps apply at once,
// and the rest (group look-ups, the request) happens off the accept loop.
func (d *daemon) serveControl(l *net.UnixListener) {
	var g gate
	var failing acceptFailures
	for {
		c, err := l.AcceptUnix()
		if errors.Is(err, net.ErrClosed) {
			return
		} else if err != nil {
			// EMFILE and the like pass when connections end: wait and
			// retry, as net/http does, rather than go deaf for good.
			time.Sleep(failing.add(d, err))
			continue
		}
		failing.reset(d)
		cred, err := peer(c)
		if err != nil {
			c.Close()
			continue
		}
		capped := !trusted(cred)
		if capped && !g.enter(cred.Uid) {
			refuse(c, fmt.Sprintf("too many connections from uid %d (at most %d each, %d in all); try again when they end", cred.Uid, maxConnsPerUID, maxConns))
			continue
		}
		go func() {
			if capped {
				defer g.leave(cred.Uid)
			}
			d.answer(c, cred)
		}()
	}
}

// refuse answers c with an error without reading from it, and hangs up.
func refuse(c *net.UnixConn, msg string) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	json.NewEncoder(c).Encode(Response{Error: msg})
	c.Close()
}

func (d *daemon) answer(c *net.UnixConn, cred *unix.Ucred) {
	acc := accessOf(cred, d.groups())
	if acc.none() {
		refuse(c, "permission denied: only root, the daemon's user or a member of a target's group may ask")
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(requestTimeout))
	enc := json.NewEncoder(c)
	in := &io.LimitedReader{R: c, N: maxRequest + 1}
	var req Request
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		if in.N == 0 {
			enc.Encode(Response{Error: fmt.Sprintf("request larger than %d bytes: a request is one small JSON object", maxRequest)})
		}
		return
	}
	switch req.Command {
	case "status":
		enc.Encode(Response{Status: d.snapshot().only(acc.may)})
		return
	case jobAudit, jobClean, jobVerify, jobVerifyFull, jobZero:
	default:
		enc.Encode(Response{Error: "unknown command " + req.Command + "; use status, audit, clean, verify, verify-full or zero"})
		return
	}
	// A target the caller may not act on is one they do not see.
	if req.Target != "" && !acc.may(req.Target) {
		enc.Encode(Response{Error: fmt.Sprintf("no target named %q", req.Target)})
		return
	}
	targets := []string{req.Target}
	if req.Target == "" && !acc.all {
		targets = slices.Sorted(maps.Keys(acc.targets))
	}
	replies := make([]chan Response, len(targets))
	for i, name := range targets {
		replies[i] = make(chan Response, 1)
		d.control <- &job{kind: req.Command, target: name, trigger: "control", replies: []chan Response{replies[i]}}
	}
	// A clean may take long: the client waits, and says so when it stops.
	c.SetDeadline(time.Time{})
	var resp Response
	var errs []string
	for i, r := range replies {
		one := <-r
		if one.Error != "" {
			errs = append(errs, one.Error)
		}
		resp.Outcomes = append(resp.Outcomes, one.Outcomes...)
		for _, f := range one.Findings {
			// Machine-wide findings (GOROOT) come with every target's audit.
			if f.Cache == "" && i == 0 || f.Cache != "" && acc.may(f.Cache) {
				resp.Findings = append(resp.Findings, f)
			}
		}
	}
	resp.Error = strings.Join(errs, "; ")
	enc.Encode(resp)
}

// groups maps each target that has a group to it.
func (d *daemon) groups() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	gs := map[string]string{}
	for _, t := range d.targets {
		if t.rt.Group != "" {
			gs[t.rt.Name] = t.rt.Group
		}
	}
	return gs
}

// statusNote is the sd_notify STATUS= assignment for s, escaped: a newline
// in a name or an error would start another assignment (READY=1, MAINPID=).
func statusNote(s string) string { return "STATUS=" + safetext.Escape(s) }
