package daemon

import (
	"github.com/gomaint/gomaint/maint/alert"
	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/paths"
)

// notifier spools alerts for cfg's routes; nil when it has none. The
// daemon never delivers: gomaint-alert.service does, with the network this
// daemon is denied.
func (d *daemon) notifier(cfg *config.Config) *alert.Notifier {
	routes, _ := alert.Routes(cfg) // checked when the file was loaded
	if len(routes) == 0 {
		return nil
	}
	return &alert.Notifier{Routes: routes, StateDir: d.opt.StateDir, LockDir: d.opt.LockDir,
		Spool: alert.Spool{Dir: paths.AlertSpool(d.opt.StateDir)}, Sink: d.opt.Sink, Version: d.opt.Version}
}

// alertGOROOT alerts on the failed GOROOT check that stops the daemon
// before READY: it exits 78 right after, and the spool outlives it.
func (d *daemon) alertGOROOT(cfg *config.Config, gr goroot.Result) {
	if n := d.notifier(cfg); n != nil {
		f := audit.GOROOTFinding(gr, cfg.GOROOT.Required)
		n.Notify([]audit.Finding{f}, nil, alert.Looked{GOROOTChecked: true}.Covers)
	}
}

// alertFigures are the alert metrics; nil without routes.
func (d *daemon) alertFigures() *metrics.Alerts {
	if d.alerts == nil {
		return nil
	}
	sent, waiting, err := d.alerts.Spool.Figures(d.alerts.Routes)
	if err != nil {
		d.warnOnce("alert metrics", err)
	}
	return &metrics.Alerts{Sent: sent, SpoolFiles: waiting}
}

// alert spools the news in a status: findings that appeared, are still
// open after a route's repeat, or were resolved. A restart must not resolve
// and then re-fire every finding, so only what a run since the start looked
// at can be resolved (covers).
func (d *daemon) alert(st *Status) {
	n := d.alerts
	if n == nil {
		return
	}
	var fs []audit.Finding
	if !st.GOROOT.OK && !st.GOROOT.Code.IsZero() {
		fs = append(fs, audit.GOROOTFinding(st.GOROOT, st.GOROOTRequired))
	}
	fs = append(fs, st.Findings...)
	audited, verified := map[string]bool{}, map[string]bool{}
	for _, t := range st.Targets {
		fs = append(fs, t.Findings...)
		audited[t.Name] = !t.LastAudit.Before(st.Started)
		verified[t.Name] = !t.LastVerify.IsZero() && !t.LastVerify.Before(st.Started)
	}
	looked := alert.Looked{Audited: func(t string) bool { return audited[t] }, Verified: func(t string) bool { return verified[t] },
		GOROOTChecked: true, GOROOTVerified: st.GOROOTVerify != ""} // GOROOT is checked before READY
	n.Notify(fs, alert.FromResolved(d.resolved()), looked.Covers)
}
