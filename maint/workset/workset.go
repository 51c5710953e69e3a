// Package workset finds the working set of one command, usually a build:
// the cache entries it looked up or wrote while gomaint watched, and
// removes the rest (`gomaint run --prune`). What a CI job should save is
// exactly that set; the cache it restored held more.
//
// A build cache is followed with the same inotify watch the daemon uses
// for limits (maint/watch), told to report every action entry go opens
// for a lookup and every entry it writes. When the command has ended its
// files are closed, so every event it caused is queued: Stop drains the
// queue before anything is decided. An entry is kept when the run used
// it, when it is an output a kept action entry names, or when it changed
// at or after the run began (another build's, or one being written).
// When the watch could not see everything (a shard without a watch, a
// queue overflow, the cache removed), Stop says why and nothing is pruned.
package workset

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/watch"
)

// idLen is the length of an entry's hex id, the name before "-a"/"-d".
const idLen = 64

// Build watches one build cache for a run.
type Build struct {
	Root  *safefs.Root
	Start time.Time // when the watch began: entries changed since are kept
	// Before is the cache's disk usage at Start, measured while the
	// command runs (so entries written meanwhile may count twice); valid
	// after Stop.
	Before int64
	Counts watch.Counts

	w        *watch.Build
	done     chan error
	measured chan int64 // nil until Measure
	pf       *prefetcher
	stopPF   sync.Once

	mu      sync.Mutex
	used    map[string]bool // action ids looked up or written
	written map[string]bool // output ids written
	lost    bool            // the kernel dropped events
}

// pollEvery is how often the watch reads its queue of events: it need not
// answer at once, and a build makes thousands (watch.Options.Poll).
const pollEvery = 100 * time.Millisecond

// Watch begins watching the build cache open at root. The caller starts
// the command after it returns, then calls Measure, and calls Stop when
// the command has ended.
func Watch(root *safefs.Root) (*Build, error) {
	b := &Build{Root: root, Start: time.Now(), used: map[string]bool{}, written: map[string]bool{},
		done: make(chan error, 1), pf: newPrefetcher()}
	w, err := watch.Open(root, watch.Options{Counts: &b.Counts, Entry: b.entry, Overflow: b.overflow, NoShardFDs: true, Poll: pollEvery})
	if err != nil {
		return nil, err
	}
	b.w = w
	go func() { b.done <- w.Run() }()
	go b.prefetch()
	return b, nil
}

// Measure begins measuring the cache's size (Before); call it once the
// command has started, to run beside it: a walk of a large cache would
// delay every build. It reads directories only, which the watch passes
// over, on a thread of its own at idle priority (scan.LowerThread): the
// command comes first.
func (b *Build) Measure() {
	b.measured = make(chan int64, 1)
	go func() {
		_ = scan.LowerThread()
		t, _ := scan.Subtree(b.Root.FD, ".", b.Root.Mount())
		b.measured <- t.DiskBytes
	}()
}

// entry records one event of the watch (its goroutine), and has the
// prefetcher read each action entry used, again when it changes.
func (b *Build) entry(name []byte, op watch.EntryOp) {
	if len(name) < idLen+2 {
		return
	}
	id := string(name[:idLen])
	action := name[idLen+1] == 'a'
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case op == watch.Removed:
		b.pf.changed(id, !action)
	case action && op == watch.Written:
		b.pf.changed(id, false)
		b.used[id] = true
		b.pf.queue(id)
	case action && !b.used[id]:
		b.used[id] = true
		b.pf.queue(id)
	case !action && op == watch.Written:
		b.written[id] = true
		b.pf.changed(id, true)
	}
}

func (b *Build) overflow() {
	b.mu.Lock()
	b.lost = true
	b.mu.Unlock()
}

// ErrIncomplete wraps the reason a run's record cannot be trusted to
// prune by.
var ErrIncomplete = errors.New("the watch did not see the whole run")

// Stop handles every event queued so far and ends the watch; Close frees
// it. The error wraps ErrIncomplete when some of the run went unseen.
func (b *Build) Stop() error {
	if b.measured != nil {
		b.Before = <-b.measured
	}
	// Before the drain, so that every lookup event of its own is in it.
	b.stopPF.Do(func() { close(b.pf.stop) })
	<-b.pf.done
	if err := b.w.Drain(); err != nil {
		b.w.Close() // ends Run, which cannot drain
		<-b.done
		return fmt.Errorf("%w: %v", ErrIncomplete, err)
	}
	runErr := <-b.done
	incomplete := b.w.Incomplete()
	b.mu.Lock()
	lost := b.lost
	b.mu.Unlock()
	switch {
	case runErr != nil:
		return fmt.Errorf("%w: %v", ErrIncomplete, runErr)
	case incomplete != nil:
		return fmt.Errorf("%w: %v", ErrIncomplete, incomplete)
	case lost:
		return fmt.Errorf("%w: the kernel's inotify queue overflowed (fs.inotify.max_queued_events)", ErrIncomplete)
	}
	return nil
}

// Close frees the watch's inotify instance, after Stop, and waits for
// the kernel to (watch.Handoff).
func (b *Build) Close() { b.w.Close() }

// HandTo hands the watch's inotify instance to h, after Stop, instead of
// Close: h frees it without waiting for the kernel.
func (b *Build) HandTo(h *watch.Handoff) { h.Add(b.w) }

// Hits is the number of action entries go looked up and found: the
// watch's count, less the prefetcher's own reads. Valid after Stop.
func (b *Build) Hits() int64 { return max(0, b.Counts.Hits.Load()-b.pf.own.Load()) }

// Used is the number of action entries the run looked up or wrote.
func (b *Build) Used() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.used)
}

// Estimate is the cache's size now as the watch knows it: its size at
// Start plus what was written since (it errs high when go replaced or
// removed entries). Valid after Stop.
func (b *Build) Estimate() int64 { return b.Before + b.Counts.WrittenBytes.Load() }
