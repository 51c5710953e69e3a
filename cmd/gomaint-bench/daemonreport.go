// The -daemon mode's table and verdict.

package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gomaint/gomaint/maint/daemon"
)

// report prints the table and the verdict, and returns the exit status.
func (r *daemonRun) report(fails []string) int {
	quick := r.b.o.quick
	var missed []string
	// A setup problem that makes the figures meaningless: in quick mode
	// only noted.
	setupCheck := func(ok bool, what string) {
		switch {
		case ok:
		case quick:
			fmt.Println("NOTE:", what)
		default:
			fails = append(fails, what)
		}
	}
	if r.win.b.at.IsZero() {
		// Never got as far as the idle window.
		printProblems(fails, nil)
		r.printStderr()
		return exitMissed
	}
	setupCheck(r.instances == 1 && r.wds >= inotifyWatchesBuild,
		fmt.Sprintf("the build cache is not watched: %d inotify instances with %d watches, want 1 with %d", r.instances, r.wds, inotifyWatchesBuild))
	setupCheck(len(r.cleaned) == 0 && r.filesAfter == r.bldT.files.Load(),
		fmt.Sprintf("the build cache was cleaned (%s files before, %s after; %s)", commas(r.bldT.files.Load()), commas(r.filesAfter), strings.Join(r.cleaned, "; ")))

	cpuT, cpuS := r.win.cpuPercent()
	d := func(f func(procSample) int64) int64 { return f(r.win.b) - f(r.win.a) }
	check := func(what string, ok bool, target string) string {
		switch {
		case quick:
			return target + ", not checked with -quick"
		case !ok:
			missed = append(missed, what)
			return target + ": MISSED"
		}
		return target + ": met"
	}
	cpuOK := cpuT < targetIdleCPU && cpuS < targetIdleCPU
	// The target applies to the highest peak seen: start-up, first audit
	// and idle, and the audit asked for after.
	hwm := float64(max(r.win.b.hwmKiB, r.afterSecond.hwmKiB)) / 1024

	fmt.Println()
	fmt.Printf("gomaint serve on a build cache of %s entries (watched, limit %s) and a module cache of %s files\n",
		commas(r.bldT.units.Load()), mib(r.limit), commas(r.modT.files.Load()))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "measure\tvalue\ttarget")
	fmt.Fprintf(w, "start to READY=1\t%.2fs\t\n", r.ready.Seconds())
	fmt.Fprintf(w, "start to first audit's end\t%.2fs\t\n", r.audited.Seconds())
	fmt.Fprintf(w, "idle CPU over %.1fs (stat ticks)\t%.3f%% of a core (%d ticks = %d ms)\t%s\n", r.win.secs(), cpuT,
		d(func(s procSample) int64 { return s.ticks }), d(func(s procSample) int64 { return s.ticks })*1000/clockTicks,
		check(fmt.Sprintf("idle CPU %.3f%% (ticks) / %.3f%% (schedstat) of a core >= %.1f%%", cpuT, cpuS, targetIdleCPU), cpuOK,
			fmt.Sprintf("< %.1f%%", targetIdleCPU)))
	fmt.Fprintf(w, "idle CPU (threads' schedstat)\t%.4f%% of a core (%.2f ms)\t\n", cpuS,
		float64(d(func(s procSample) int64 { return s.runNS }))/1e6)
	fmt.Fprintf(w, "peak RSS (VmHWM), whole run\t%.1f MiB (%.1f before the second audit)\t%s\n", hwm, float64(r.win.b.hwmKiB)/1024,
		check(fmt.Sprintf("peak RSS %.1f MiB > %.0f MiB", hwm, targetDaemonRSSMiB), hwm <= targetDaemonRSSMiB,
			fmt.Sprintf("<= %.0f MiB", targetDaemonRSSMiB)))
	fmt.Fprintf(w, "RSS after first audit / after idle\t%.1f / %.1f MiB (anonymous %.1f / %.1f)\t\n", float64(r.afterAudit.rssKiB)/1024,
		float64(r.win.b.rssKiB)/1024, float64(r.afterAudit.anonKiB)/1024, float64(r.win.b.anonKiB)/1024)
	fmt.Fprintf(w, "CPU for start-up and first audit\t%.2fs\t\n", float64(r.afterAudit.ticks)/clockTicks)
	if r.auditWall > 0 {
		fmt.Fprintf(w, "one more audit (control socket): CPU, wall\t%.2fs, %.2fs\t\n", r.auditCPU.Seconds(), r.auditWall.Seconds())
		fmt.Fprintf(w, "  RSS after it\t%.1f MiB (anonymous %.1f)\t\n", float64(r.afterSecond.rssKiB)/1024, float64(r.afterSecond.anonKiB)/1024)
	}
	iv := daemon.DefaultIntervals()
	fmt.Fprintf(w, "one rescan of the build cache: CPU, wall\t%.3fs, %.3fs\t\n", r.rescanCPU.Seconds(), r.rescanWall.Seconds())
	fmt.Fprintf(w, "  safety net, every %s\t%.1f CPU s/hour\t\n", iv.SafetyNet, perHour(r.rescanCPU, iv.SafetyNet))
	fmt.Fprintf(w, "  degraded watch, every %s\t%.1f CPU s/hour\t\n", iv.Degraded, perHour(r.rescanCPU, iv.Degraded))
	var keptUp int64
	for _, s := range r.counting {
		fmt.Fprintf(w, "counting, %s events/s asked: made, counted\t%s events in %.1fs (%s/s), %s%s\t\n", rateName(s.rate),
			commas(s.events()), s.secs, commas(int64(float64(s.events())/s.secs)), map[bool]string{true: "all counted", false: "NOT all counted"}[s.keptUp],
			fmt.Sprintf(", %.2f ms CPU per 1,000 events", float64(s.cpuNS)/1e6/float64(s.events())*1000))
		if s.keptUp {
			keptUp = max(keptUp, int64(float64(s.events())/s.secs))
		}
	}
	if len(r.counting) > 0 {
		fmt.Fprintf(w, "events/s the watch keeps up with while counting\t%s\t\n", commas(keptUp))
	}
	fmt.Fprintf(w, "threads\t%d\t\n", r.win.b.threads)
	vcs := d(func(s procSample) int64 { return s.vcsw })
	fmt.Fprintf(w, "voluntary context switches, idle\t%d (%.2f/s)\t\n", vcs, float64(vcs)/r.win.secs())
	fmt.Fprintf(w, "involuntary context switches, idle\t%d\t\n", d(func(s procSample) int64 { return s.nvcsw }))
	fmt.Fprintf(w, "WATCHDOG=1 pings, idle (WATCHDOG_USEC=%s)\t%d\t\n", watchdogUsec, r.win.pings)
	fmt.Fprintf(w, "inotify instances / watches\t%d / %d\t\n", r.instances, r.wds)
	fmt.Fprintf(w, "open file descriptors\t%d\t\n", r.fds)
	stop := fmt.Sprintf("exit %d in %.3fs", r.stopCode, r.stopIn.Seconds())
	if !r.stopped {
		stop = fmt.Sprintf("still running after %s", targetStop)
	}
	fmt.Fprintf(w, "SIGTERM to exit\t%s\texit 0 within %s: %s\n", stop, targetStop, map[bool]string{true: "met", false: "MISSED"}[r.stopped && r.stopCode == 0])
	idleB := r.idleHourIO.fileBytes()
	fmt.Fprintf(w, "writes, an idle hour (modelled: timers, 1 audit, %d rescans)\t%s of files, %s write_bytes\t%s\n",
		int(time.Hour/iv.SafetyNet), kib(idleB), kib(r.idleHourIO.writeBytes),
		check(fmt.Sprintf("idle writes %s an hour >= %s", kib(max(idleB, r.idleHourIO.writeBytes)), kib(targetIdleWritesPerHour)),
			max(idleB, r.idleHourIO.writeBytes) < targetIdleWritesPerHour, "< 1 MiB/hour"))
	w.Flush()
	fmt.Println()
	printWrites(r.idleIO.hourly(), r.auditIO, r.idleHourIO, r.buildIO)
	fmt.Printf("(building: %d limit trims in the window; syscw counts socket writes too: notify, the control socket's answers)\n", r.buildTrims)
	fmt.Printf("the daemon's findings on the caches (saved status): %s\n", r.findings)
	if r.win.count > 1 {
		fmt.Printf("  (idle window %d: the earlier ones had a scheduled job in them)\n", r.win.count)
	}
	code := verdict(fails, missed, quick, "gomaint serve started, became ready, audited and stopped with exit 0 on SIGTERM")
	if code != exitOK {
		r.printStderr()
	}
	return code
}

// printStderr shows the daemon's stderr, which says why it failed.
func (r *daemonRun) printStderr() {
	if r.stderr != "" {
		fmt.Printf("gomaint serve's stderr:\n%s", r.stderr)
	}
}
