package daemon

import (
	"fmt"
	"time"

	"github.com/gomaint/gomaint/maint/journal"
)

// acceptFailures follows failed accepts: the pause before the next try
// (5ms, doubling up to 1s, reset by a success), and the journal: a warning
// when accepts start failing, a notice when one succeeds again, and at
// most one warning a minute however often the two alternate.
type acceptFailures struct {
	pause  time.Duration
	n      int       // failures since the warning
	warned time.Time // when the last warning went out
	open   bool      // a warning went out, its notice not yet
}

func (f *acceptFailures) add(d *daemon, err error) time.Duration {
	if !f.open && time.Since(f.warned) >= time.Minute {
		journal.Emit(d.opt.Sink, journal.Event{Type: journal.Control, Priority: journal.Warning,
			Message: fmt.Sprintf("control socket: cannot accept connections: %v; retrying until it can", err),
			Fields:  map[string]string{"GOMAINT_REASON": err.Error()}})
		f.warned, f.open, f.n = time.Now(), true, 0
	}
	f.n++
	f.pause = min(max(2*f.pause, 5*time.Millisecond), time.Second)
	return f.pause
}

func (f *acceptFailures) reset(d *daemon) {
	f.pause = 0
	if f.open {
		journal.Emit(d.opt.Sink, journal.Event{Type: journal.Control, Priority: journal.Notice,
			Message: fmt.Sprintf("control socket: accepting connections again after %d failed tries", f.n),
			Fields:  map[string]string{"GOMAINT_REASON": "recovered"}})
		f.open = false
	}
}
