package watch

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// LimitError is a watch that could not be made because a kernel or process
// limit ran out. The watch goes on without it; the daemon enforces the
// cache by rescans until the limit is raised (see Build.Resync).
type LimitError struct {
	Op     string // what failed: "inotify_init1", "inotify_add_watch", "open"
	Limit  string // the limit that ran out, e.g. "fs.inotify.max_user_watches"
	Raise  string // how to raise it
	Shards int    // shard directories left unwatched (Build.Incomplete)
	Dirs   int    // module-cache directories watched when the limit ran out; all then let go (Modules)
	Err    error
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: %v: the %s limit is used up", e.Op, e.Err, e.Limit)
}

func (e *LimitError) Unwrap() error { return e.Err }

// limitError classifies err from op: a *LimitError when a limit ran out,
// else err itself.
func limitError(op string, err error) error {
	var l *LimitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &l):
		return err
	case op == "inotify_init1" && errors.Is(err, unix.EMFILE):
		l = &LimitError{Limit: "fs.inotify.max_user_instances",
			Raise: "sysctl -w fs.inotify.max_user_instances=1024 (and a line in /etc/sysctl.d/ to keep it)"}
	case op == "inotify_add_watch" && errors.Is(err, unix.ENOSPC):
		l = &LimitError{Limit: "fs.inotify.max_user_watches",
			Raise: "sysctl -w fs.inotify.max_user_watches=524288 (and a line in /etc/sysctl.d/ to keep it)"}
	case errors.Is(err, unix.EMFILE):
		l = &LimitError{Limit: "open files of the daemon (RLIMIT_NOFILE)",
			Raise: "raise LimitNOFILE= of the unit (systemctl edit gomaint.service)"}
	case errors.Is(err, unix.ENFILE):
		l = &LimitError{Limit: "fs.file-max", Raise: "sysctl -w fs.file-max=<more>"}
	case errors.Is(err, unix.ENOMEM):
		l = &LimitError{Limit: "kernel memory for inotify", Raise: "free memory"}
	default:
		return err
	}
	l.Op, l.Err = op, err
	return l
}
