package scan

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// From linux/ioprio.h; x/sys/unix has the system call but not these.
const (
	ioprioWhoProcess = 1 // with a thread id: that thread alone
	ioprioClassShift = 13
	ioprioIdle       = 3 << ioprioClassShift // IOPRIO_CLASS_IDLE: read only when no one else does
	niceness         = 10
)

type idleKey struct{}

// Idle returns a context under which the goroutines that read files for
// a run (Walk's workers, verify's readers) do so on threads of their own at
// idle I/O priority and nice 10 (LowerThread). It is how a long-running
// process, the daemon, verifies gently without making itself idle: Linux
// keeps both priorities per thread, and a Go process shares its threads
// among all its goroutines. A context carries it, as it carries
// cancellation, to every goroutine of the run, whichever engine (verify,
// goroot) spawns them.
func Idle(ctx context.Context) context.Context { return context.WithValue(ctx, idleKey{}, true) }

// IsIdle reports whether ctx asks for reading at idle priority.
func IsIdle(ctx context.Context) bool { v, _ := ctx.Value(idleKey{}).(bool); return v }

// LowerThread locks the calling goroutine to its OS thread and lowers that
// thread (Lower). The goroutine must never unlock it: when it returns, the
// runtime ends the thread rather than hand it, lowered, to another
// goroutine (the main thread, which Linux cannot end alone, it parks for
// good instead); and threads the runtime makes while it is locked come
// from its template thread, so they do not inherit the priority either.
func LowerThread() error {
	runtime.LockOSThread()
	return Lower(unix.Gettid())
}

// Lower puts thread tid at idle I/O priority and nice 10.
func Lower(tid int) error {
	var errs []error
	if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), ioprioIdle); e != 0 && e != unix.ESRCH {
		errs = append(errs, fmt.Errorf("ioprio_set idle on thread %d: %w", tid, e))
	}
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, niceness); err != nil && !errors.Is(err, unix.ESRCH) {
		errs = append(errs, fmt.Errorf("nice %d on thread %d: %w", niceness, tid, err))
	}
	return errors.Join(errs...)
}

// LowerIfIdle lowers the calling goroutine's thread when ctx asks for it
// (Idle); call it first in each goroutine that reads files for a run. A
// thread left at its priority makes the run less gentle, never wrong, so
// a refusal does not stop the run.
func LowerIfIdle(ctx context.Context) {
	if IsIdle(ctx) {
		_ = LowerThread()
	}
}
