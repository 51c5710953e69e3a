package main

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/daemon"
)

// rescanCost times one rescan as the daemon's safety net and degraded
// watches run it (daemon.Measure), on this goroutine's own thread, so that
// its CPU time is exactly the rescan's.
func rescanCost(path string) (cpu, wall time.Duration, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var before, after unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &before); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if _, _, err := daemon.Measure(path); err != nil {
		return 0, 0, err
	}
	wall = time.Since(start)
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &after); err != nil {
		return 0, 0, err
	}
	tv := func(t unix.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(after.Utime) + tv(after.Stime) - tv(before.Utime) - tv(before.Stime), wall, nil
}

// perHour is the CPU an hour of rescans every interval costs.
func perHour(each, interval time.Duration) float64 {
	return each.Seconds() * float64(time.Hour/interval)
}
