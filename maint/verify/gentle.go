package verify

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/gomaint/gomaint/maint/scan"
)

// Gentle puts the whole process at idle I/O priority and nice 10, so that
// a verification on a Pi's SD card or a busy build host reads only when
// nothing else does. Linux keeps both per thread, so each thread running
// now is set, and threads made later inherit it from the thread that
// makes them. Call it from a command, never from a daemon's or a test's
// process, which must keep their priority: they verify under scan.Idle,
// which lowers only the threads that read.
func Gentle() error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("list threads: %w", err)
	}
	var errs []error
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			errs = append(errs, scan.Lower(tid))
		}
	}
	return errors.Join(errs...)
}
