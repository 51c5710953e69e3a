package daemon

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/gomaint/gomaint/maint/metrics"
)

// snapshot copies the status, with live figures from the watches.
func (d *daemon) snapshot() *Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.status
	s.Targets = nil
	for _, t := range d.targets {
		ts := t.status
		if w := t.watch.Load(); w != nil {
			ts.Bytes, ts.Files = w.Estimate()
			ts.UsesRecorded = w.Refreshed()
		}
		s.Targets = append(s.Targets, ts)
	}
	s.Updated = time.Now()
	return &s
}

func (d *daemon) statusLine() string { return d.snapshot().StatusLine() }

// publish tells systemd, the state directory and (when configured)
// Prometheus what the last run found.
func (d *daemon) publish() {
	st := d.snapshot()
	d.opt.Notify("STATUS=" + st.StatusLine())
	if err := SaveStatus(d.opt.StateDir, st); err != nil {
		d.warnOnce("state", err)
	}
	if dir := d.cfg.Daemon.MetricsDir; dir != "" {
		if err := metrics.Write(dir, metricsOf(st)); err != nil {
			d.warnOnce("metrics", err)
		}
	}
}

// metricsOf turns a status into the textfile's figures.
func metricsOf(st *Status) metrics.Snapshot {
	s := metrics.Snapshot{GorootOK: st.GOROOT.OK}
	if !st.GOROOT.OK && st.GOROOT.Code != "" {
		sev := "warning"
		if st.GOROOTRequired {
			sev = "error"
		}
		s.Findings = append(s.Findings, metrics.Finding{Code: st.GOROOT.Code, Severity: sev, Count: 1})
	}
	for _, t := range st.Targets {
		s.Targets = append(s.Targets, metrics.Target{Name: t.Name, Kind: t.Kind, Path: t.Path, Bytes: t.Bytes, Files: t.Files,
			LimitBytes: t.LimitBytes, FSFreeBytes: t.FSFreeBytes, FSFreeInodes: t.FSFreeInodes, TrimFreedBytesTotal: t.TrimFreedTotal,
			LastAudit: t.LastAudit, LastCleanSuccess: t.LastCleanSuccess, Watch: t.Watch})
		s.Findings = append(s.Findings, metrics.CountFindings(t.Findings)...)
	}
	return s
}

// warnOnce reports a failure to keep state or metrics on stderr (the
// journal, under systemd) the first time it happens, not after every run.
func (d *daemon) warnOnce(what string, err error) {
	d.mu.Lock()
	if d.warned == nil {
		d.warned = map[string]bool{}
	}
	seen := d.warned[what]
	d.warned[what] = true
	d.mu.Unlock()
	if !seen {
		fmt.Fprintf(os.Stderr, "gomaint serve: cannot write %s: %v\n", what, err)
	}
}

// serveControl answers the control socket until it is closed.
func (d *daemon) serveControl(l *net.UnixListener) {
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			return
		}
		go d.answer(c)
	}
}

func (d *daemon) answer(c *net.UnixConn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var req Request
	if err := json.NewDecoder(c).Decode(&req); err != nil {
		return
	}
	enc := json.NewEncoder(c)
	cred, err := peer(c)
	if err != nil || !authorised(cred, d.groups()) {
		enc.Encode(Response{Error: "permission denied: only root, the daemon's user or a member of a target's group may ask"})
		return
	}
	switch req.Command {
	case "status":
		enc.Encode(Response{Status: d.snapshot()})
		return
	case jobAudit, jobClean:
	default:
		enc.Encode(Response{Error: "unknown command " + req.Command + "; use status, audit or clean"})
		return
	}
	reply := make(chan Response, 1)
	d.control <- &job{kind: req.Command, target: req.Target, trigger: "control", replies: []chan Response{reply}}
	// A clean may take long: the client waits, and says so when it stops.
	c.SetDeadline(time.Time{})
	enc.Encode(<-reply)
}

func (d *daemon) groups() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var gs []string
	for _, t := range d.targets {
		if t.rt.Group != "" {
			gs = append(gs, t.rt.Group)
		}
	}
	return gs
}
