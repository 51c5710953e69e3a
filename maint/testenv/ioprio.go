package testenv

import (
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ioprioIdleClass is IOPRIO_CLASS_IDLE (linux/ioprio.h).
const ioprioIdleClass = 3

// IdleThread reports whether thread tid of this process reads at idle I/O
// priority (ioprio_get of that thread alone); a thread that has ended is
// not.
func IdleThread(t testing.TB, tid int) bool {
	t.Helper()
	r, _, e := unix.Syscall(unix.SYS_IOPRIO_GET, 1 /* IOPRIO_WHO_PROCESS: a tid */, uintptr(tid), 0)
	if e == unix.ESRCH {
		return false
	} else if e != 0 {
		t.Fatalf("ioprio_get of thread %d: %v", tid, e)
	}
	return r>>13 == ioprioIdleClass
}

// IdleThreadsLeft lists the threads of this process still at idle I/O
// priority once a second has passed for lowered threads to end: a
// goroutine's deferred calls (a WaitGroup's Done) run before the runtime
// ends the thread it was locked to. The main thread is not listed: the
// runtime parks it for good instead of ending it (runtime.mexit), so it
// never runs anything again.
func IdleThreadsLeft(t testing.TB) []int {
	t.Helper()
	var idle []int
	for deadline := time.Now().Add(time.Second); ; time.Sleep(10 * time.Millisecond) {
		if idle = idleThreads(t); len(idle) == 0 || time.Now().After(deadline) {
			return idle
		}
	}
}

func idleThreads(t testing.TB) []int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var idle []int
	for _, e := range tasks {
		if tid, err := strconv.Atoi(e.Name()); err == nil && tid != os.Getpid() && IdleThread(t, tid) {
			idle = append(idle, tid)
		}
	}
	return idle
}
