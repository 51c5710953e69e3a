package verify

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// From linux/ioprio.h; x/sys/unix has the system call but not these.
const (
	ioprioWhoProcess = 1
	ioprioClassIdle  = 3
	ioprioClassShift = 13
	niceness         = 10
)

// Gentle puts the whole process at idle I/O priority and nice 10, so that
// a verification on a Pi's SD card or a busy build host reads only when
// nothing else does. Linux keeps both per thread, so each thread running
// now is set, and threads made later inherit it from the thread that
// makes them. Call it from a command, never from a daemon's or a test's
// process, which must keep their priority.
func Gentle() error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("list threads: %w", err)
	}
	var errs []error
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), ioprioClassIdle<<ioprioClassShift); e != 0 && e != unix.ESRCH {
			errs = append(errs, fmt.Errorf("ioprio_set idle on thread %d: %w", tid, e))
		}
		if err := unix.Setpriority(unix.PRIO_PROCESS, tid, niceness); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("nice %d on thread %d: %w", niceness, tid, err))
		}
	}
	return errors.Join(errs...)
}
