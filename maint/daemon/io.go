package daemon

import (
	"sync/atomic"

	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/safefs"
)

// IO is what the daemon wrote since it started: each of its files by path
// (a path ending in "/" counts a directory's fsyncs), and what it sent the
// journal, whose writes are journald's. It is answered on the control
// socket only: saved, the status would change with every write of itself.
type IO struct {
	Files         map[string]safefs.Stats `json:"files"`
	JournalEvents int64                   `json:"journal_events"`
	// JournalBytes is the events' fields as sent, NAME=value each.
	JournalBytes int64 `json:"journal_sent_bytes"`
}

// countingSink counts the events a sink is given and their size.
type countingSink struct {
	journal.Sink
	events, bytes atomic.Int64
}

func (c *countingSink) Send(e journal.Event) error {
	n := len("MESSAGE=") + len(e.Message) + len("PRIORITY=N")
	for k, v := range e.Fields {
		n += len(k) + 1 + len(v)
	}
	c.events.Add(1)
	c.bytes.Add(int64(n))
	return c.Sink.Send(e)
}

func (d *daemon) io() *IO {
	return &IO{Files: safefs.Written(), JournalEvents: d.sent.events.Load(), JournalBytes: d.sent.bytes.Load()}
}
