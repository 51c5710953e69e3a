// What /proc says about the daemon: CPU time, memory, context switches, inotify.

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procSample is what /proc says about the daemon at one moment. CPU time
// and context switches are summed over its threads.
type procSample struct {
	at             time.Time
	ticks          int64 // utime + stime, in clock ticks
	runNS          int64 // time on a CPU, from the threads' schedstat: finer than ticks
	vcsw, nvcsw    int64 // voluntary and involuntary context switches
	threads        int
	hwmKiB, rssKiB int64
	anonKiB        int64 // of rssKiB: heap, stacks; the rest is mostly the binary's pages
}

func readProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	dir := fmt.Sprintf("/proc/%d", pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, err
	}
	// Fields after the command name, which is in parentheses and may
	// hold anything: state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(stat, ')')
	f := strings.Fields(string(stat[i+1:]))
	if i < 0 || len(f) < 13 {
		return s, fmt.Errorf("%s/stat: unexpected format", dir)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return s, fmt.Errorf("%s/stat: %v", dir, err)
	}
	s.ticks = ut + st
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, err
	}
	st1 := statusFields(status)
	s.hwmKiB, s.rssKiB, s.anonKiB, s.threads = st1["VmHWM"], st1["VmRSS"], st1["RssAnon"], int(st1["Threads"])
	// voluntary_ctxt_switches in /proc/PID/status counts the main thread
	// only: sum the threads'.
	tasks, err := os.ReadDir(dir + "/task")
	if err != nil {
		return s, err
	}
	for _, t := range tasks {
		if ts, err := os.ReadFile(filepath.Join(dir, "task", t.Name(), "status")); err == nil {
			m := statusFields(ts)
			s.vcsw += m["voluntary_ctxt_switches"]
			s.nvcsw += m["nonvoluntary_ctxt_switches"]
		}
		if ss, err := os.ReadFile(filepath.Join(dir, "task", t.Name(), "schedstat")); err == nil {
			if f := strings.Fields(string(ss)); len(f) > 0 {
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				s.runNS += ns
			}
		}
	}
	return s, nil
}

// statusFields reads the numbers of a /proc status file ("VmHWM:  1234 kB").
func statusFields(data []byte) map[string]int64 {
	m := map[string]int64{}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if f := strings.Fields(v); len(f) > 0 {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				m[k] = n
			}
		}
	}
	return m
}

// inotifyWatches counts the daemon's inotify instances and their watches,
// and its open file descriptors.
func inotifyWatches(pid int) (instances, watches, fds int) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, 0
	}
	for _, e := range entries {
		fds++
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err != nil || l != "anon_inode:inotify" {
			continue
		}
		instances++
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, e.Name()))
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(info)) {
			if strings.HasPrefix(line, "inotify wd:") {
				watches++
			}
		}
	}
	return instances, watches, fds
}

// idleWindow is one idle measurement.
type idleWindow struct {
	a, b  procSample
	jobs  []string // jobs the daemon ran during the window: the window does not count
	pings int      // WATCHDOG=1 during the window
	count int      // which attempt
}

func (w idleWindow) secs() float64 { return w.b.at.Sub(w.a.at).Seconds() }

// cpuPercent is the CPU time used over the window, in percent of one core,
// from /proc/PID/stat's ticks and from the threads' schedstat.
func (w idleWindow) cpuPercent() (ticks, sched float64) {
	ticks = float64(w.b.ticks-w.a.ticks) / clockTicks / w.secs() * 100
	sched = float64(w.b.runNS-w.a.runNS) / 1e9 / w.secs() * 100
	return ticks, sched
}
