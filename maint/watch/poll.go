package watch

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// A build makes thousands of inotify events, and a watch that waits in
// the runtime's poller is woken for each one, on the CPUs the build is
// using: under `gomaint run` those wake-ups cost the build more time than
// all of gomaint's own work. A polled watch (Options.Poll) keeps its
// instance out of the poller (a blocking fd, read only when FIONREAD says
// events are queued) and reads the queue every Poll, hundreds of events a
// wake-up. The kernel holds fs.inotify.max_queued_events meanwhile (16384
// by default); an overflow is handled as always.
type poller struct {
	stop, drain         chan struct{}
	stopOnce, drainOnce sync.Once
	mu                  sync.Mutex // held while the queue is read: Close never closes the fd under a read
	closed              bool
}

func newPoller() *poller { return &poller{stop: make(chan struct{}), drain: make(chan struct{})} }

// runPolled is Run for a polled watch.
func (w *Build) runPolled(buf []byte) error {
	t := time.NewTicker(w.opt.Poll)
	defer t.Stop()
	for {
		select {
		case <-w.poll.stop:
			return nil
		case <-w.poll.drain:
			return w.readQueued(buf)
		case <-t.C:
			if err := w.readQueued(buf); err != nil {
				return err
			}
			w.checkOver()
		}
	}
}

// readQueued handles every event queued, without blocking.
func (w *Build) readQueued(buf []byte) error {
	w.poll.mu.Lock()
	defer w.poll.mu.Unlock()
	for !w.poll.closed {
		queued, err := unix.IoctlGetInt(w.ifd, unix.TIOCINQ) // FIONREAD
		if err != nil {
			return fmt.Errorf("inotify queue: %w", err)
		}
		if queued == 0 {
			return nil
		}
		n, err := unix.Read(w.ifd, buf)
		if err != nil {
			return fmt.Errorf("read inotify events: %w", err)
		}
		if err := w.handle(buf[:n]); err != nil {
			return err
		}
	}
	return nil
}

// closePolled ends runPolled and closes the instance once no read is
// under way.
func (w *Build) closePolled() error {
	w.poll.stopOnce.Do(func() { close(w.poll.stop) })
	w.poll.mu.Lock()
	defer w.poll.mu.Unlock()
	w.poll.closed = true
	return w.file.Close()
}
