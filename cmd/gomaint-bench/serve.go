// The -daemon mode's run of gomaint serve: start, first audit, idle, stop.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// serveProc is the running daemon.
type serveProc struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer // written by exec's copier until exited is closed
	exited chan struct{}
	start  time.Time
}

func (p *serveProc) pid() int { return p.cmd.Process.Pid }

func (p *serveProc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// await returns the first notice that ok accepts, or an error when the
// daemon exits, within passes or ctx ends.
func (p *serveProc) await(ctx context.Context, n *notifyConn, within time.Duration, what string, ok func(string) bool) (notice, error) {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		select {
		case m, open := <-n.ch:
			if !open {
				return notice{}, errors.New("the notify socket closed")
			}
			if ok(m.msg) {
				return m, nil
			}
		case <-p.exited:
			return notice{}, fmt.Errorf("gomaint serve exited (%v) before %s", p.cmd.ProcessState, what)
		case <-deadline.C:
			return notice{}, fmt.Errorf("no %s within %s", what, within)
		case <-ctx.Done():
			return notice{}, ctx.Err()
		}
	}
}

// daemonEnv is our environment for the daemon, without what systemd would
// set for another service, and with private runtime and state directories.
func daemonEnv(notify, run, state string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
			"STATE_DIRECTORY", "RUNTIME_DIRECTORY", "GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS", "XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "WATCHDOG_USEC="+watchdogUsec, "NOTIFY_SOCKET="+notify, "XDG_RUNTIME_DIR="+run, "XDG_STATE_HOME="+state,
		"XDG_CONFIG_HOME="+filepath.Join(filepath.Dir(run), "config"))
}

// serve runs the daemon through start, first audit, idle and stop. It
// returns what failed, or an error when it could not measure at all.
func (r *daemonRun) serve(ctx context.Context) (fails []string, err error) {
	work := filepath.Join(r.b.work, "serve")
	run, state := filepath.Join(work, "run"), filepath.Join(work, "state")
	sock := filepath.Join(run, "gomaint", "control.sock")
	for _, d := range []string{run, state, r.metricsDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	n, err := listenNotify(filepath.Join(work, "notify.sock"))
	if err != nil {
		return nil, fmt.Errorf("notify socket: %v", err)
	}
	defer n.conn.Close()

	p := &serveProc{exited: make(chan struct{})}
	p.cmd = exec.Command(r.b.gomaint, "serve", "--config", r.cfg, "--log", "none")
	p.cmd.Env = daemonEnv(n.path, run, state)
	p.cmd.Dir = "/"
	p.cmd.Stderr = &p.stderr
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	defer func() {
		if p.alive() {
			p.cmd.Process.Kill()
		}
		<-p.exited
		r.stderr = p.stderr.String()
	}()
	fmt.Printf("started gomaint serve (pid %d), waiting for READY=1 and the first audit\n", p.pid())

	fail := func(err error) ([]string, error) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return append(fails, err.Error()), nil
	}
	m, err := p.await(ctx, n, daemonReadyWithin, "READY=1", func(s string) bool { _, ok := field(s, "READY"); return ok })
	if err != nil {
		return fail(err)
	}
	r.ready = m.at.Sub(p.start)
	m, err = p.await(ctx, n, daemonAuditWithin, `a STATUS= with "last audit" (the first audit's end)`, func(s string) bool {
		v, _ := field(s, "STATUS")
		return strings.Contains(v, "last audit")
	})
	if err != nil {
		return fail(err)
	}
	r.audited = m.at.Sub(p.start)
	r.auditStatus, _ = field(m.msg, "STATUS")
	fmt.Printf("READY=1 after %.2fs, first audit done after %.2fs: %s\n", r.ready.Seconds(), r.audited.Seconds(), r.auditStatus)
	if r.afterAudit, err = readProc(p.pid()); err != nil {
		return fail(fmt.Errorf("reading /proc after the first audit: %v", err))
	}

	// Idle windows: one, or another when a scheduled job ran inside it.
	for attempt := 1; attempt <= daemonIdleAttempts; attempt++ {
		if err := sleepCtx(ctx, daemonSettle); err != nil {
			return nil, err
		}
		if !p.alive() {
			return fail(fmt.Errorf("gomaint serve exited (%v) while idle", p.cmd.ProcessState))
		}
		w := idleWindow{count: attempt}
		ioA, err := ioNow(ctx, p.pid(), sock)
		if err != nil {
			return fail(err)
		}
		if w.a, err = readProc(p.pid()); err != nil {
			return fail(err)
		}
		fmt.Printf("idle window %d: %s without cache activity...\n", attempt, r.idle)
		if err := sleepCtx(ctx, r.idle); err != nil {
			return nil, err
		}
		if w.b, err = readProc(p.pid()); err != nil {
			return fail(fmt.Errorf("gomaint serve gone during the idle window: %v", err))
		}
		ioB, err := ioNow(ctx, p.pid(), sock)
		if err != nil {
			return fail(err)
		}
		r.idleIO = spanOf("idle, per hour", ioA, ioB)
		for _, m := range n.since(w.a.at) {
			if m.at.After(w.b.at) {
				continue
			}
			if _, ok := field(m.msg, "WATCHDOG"); ok {
				w.pings++
			}
			if v, ok := field(m.msg, "STATUS"); ok && strings.Contains(v, "; running ") {
				w.jobs = append(w.jobs, v[strings.Index(v, "; running ")+2:])
			}
		}
		r.win = w
		if len(w.jobs) == 0 {
			break
		}
		fmt.Printf("  a job ran during the window (%s): it does not count as idle\n", strings.Join(w.jobs, "; "))
		// Let the job end before the next window.
		if _, err := p.await(ctx, n, daemonAuditWithin, "the end of the job", func(s string) bool {
			v, ok := field(s, "STATUS")
			return ok && !strings.Contains(v, "; running ")
		}); err != nil {
			return fail(err)
		}
	}
	if len(r.win.jobs) > 0 {
		fails = append(fails, fmt.Sprintf("no idle window of %s in %d attempts: jobs kept running", r.idle, daemonIdleAttempts))
	}
	r.instances, r.wds, r.fds = inotifyWatches(p.pid())

	// One more audit, asked for on the control socket: what each
	// scheduled one costs once the daemon runs. Not part of the targets.
	ioA, err := ioNow(ctx, p.pid(), sock)
	if err != nil {
		return fail(err)
	}
	r.auditCPU, r.auditWall, r.afterSecond, err = r.auditNow(ctx, p.pid(), sock)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fails = append(fails, "audit on the control socket: "+err.Error())
	}
	sleepCtx(ctx, daemonSettle) // the audit's publish follows its answer
	ioB, err := ioNow(ctx, p.pid(), sock)
	if err != nil {
		return fail(err)
	}
	r.auditIO = spanOf("one audit", ioA, ioB)
	r.idleHourIO = idleHour(r.idleIO, r.auditIO)
	for _, m := range n.seen() {
		if v, ok := field(m.msg, "STATUS"); ok && (strings.Contains(v, "last clean") || strings.Contains(v, "running clean")) {
			r.cleaned = append(r.cleaned, v)
		}
	}
	if r.filesAfter, err = countFiles(r.bld); err != nil {
		return nil, err
	}

	// The counting load, after the idle window and the audit (not part of
	// their figures), and before the builds: their limit trims would
	// remove the entries it looks up.
	if r.counting, err = r.countLoad(ctx, p.pid(), filepath.Join(run, "gomaint", "control.sock")); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fails = append(fails, "counting load: "+err.Error())
	}

	// Builds grow the watched cache past a limit just above its size.
	fmt.Printf("building: %d entries/s of %d KiB into the watched cache for %s, its limit just above its size...\n",
		buildEntriesPerSec, buildEntryBytes>>10, r.idle)
	if r.buildIO, r.buildTrims, err = r.buildWindow(ctx, p, n, sock, r.idle); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fails = append(fails, "building: "+err.Error())
	}

	// Stop as systemd does.
	stopAt := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fail(fmt.Errorf("SIGTERM: %v", err))
	}
	select {
	case <-p.exited:
		r.stopIn, r.stopped = time.Since(stopAt), true
		r.stopCode = p.cmd.ProcessState.ExitCode()
	case <-time.After(targetStop):
		r.stopIn, r.stopCode = time.Since(stopAt), -1
		fails = append(fails, fmt.Sprintf("gomaint serve still running %s after SIGTERM", targetStop))
		p.cmd.Process.Kill()
		<-p.exited
	}
	if r.stopped && r.stopCode != 0 {
		fails = append(fails, fmt.Sprintf("gomaint serve exited %d after SIGTERM, want 0 (%v)", r.stopCode, p.cmd.ProcessState))
	}
	for _, m := range n.since(stopAt) {
		if _, ok := field(m.msg, "STOPPING"); ok {
			r.sawStopping = true
		}
	}
	if !r.sawStopping {
		fails = append(fails, "no STOPPING=1 after SIGTERM")
	}
	return fails, nil
}

// auditNow asks the daemon for an audit of every target and returns the
// CPU time and wall time it took, and /proc after it.
func (r *daemonRun) auditNow(ctx context.Context, pid int, sock string) (cpu, wall time.Duration, after procSample, err error) {
	before, err := readProc(pid)
	if err != nil {
		return 0, 0, after, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return 0, 0, after, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(daemonAuditWithin))
	if _, err := c.Write([]byte(`{"command":"audit"}` + "\n")); err != nil {
		return 0, 0, after, err
	}
	var resp struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return 0, 0, after, fmt.Errorf("no answer: %v", err)
	}
	if resp.Error != "" {
		return 0, 0, after, errors.New(resp.Error)
	}
	if after, err = readProc(pid); err != nil {
		return 0, 0, after, err
	}
	return time.Duration(after.ticks-before.ticks) * time.Second / clockTicks, after.at.Sub(before.at), after, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
