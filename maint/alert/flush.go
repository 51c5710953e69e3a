package alert

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/scan"
	"golang.org/x/sys/unix"
)

const (
	// parallel is how many routes are delivered to at once, each by one
	// worker in spool order: a receiver that hangs holds back its own
	// route only, and no receiver gets more than one request at a time.
	parallel = 8
	// poll is how often a run that waits looks at the spool again, for
	// alerts spooled meanwhile and entries another sender let go.
	poll = 2 * time.Second
)

// FlushOptions say how long a Flush runs and what it tries.
type FlushOptions struct {
	// All attempts every entry in the spool at once, due or not: `gomaint
	// alert flush` by hand. Later retries in the same run keep the backoff.
	All bool
	// Wait keeps the run going while an entry's next attempt falls within
	// Wait of its start (the packaged service waits 4 minutes, so the
	// first retries happen in the same run); 0 attempts what is due once.
	Wait    time.Duration
	Version string       // gomaint's, for the User-Agent
	Sink    journal.Sink // every attempt's event; nil: none
	// Now is the clock that decides what is due (nil: time.Now); waits
	// are in real time.
	Now func() time.Time
}

// FlushResult is what a Flush did.
type FlushResult struct {
	Delivered, Failed, Dropped int
	// Deferred entries were due but not attempted: their receiver did not
	// answer another alert just before; they go with its next retry.
	Deferred int
	// Pending is how many alerts are left in the spool.
	Pending int
	// Bad are spool files that are not entries, left where they are.
	Bad []error
}

// Flush delivers the due alerts of the spool to their routes: one
// attempt each, a failure rescheduled with backoff, an alert dropped when
// its route's retry_for has passed, when its receiver refuses it for good,
// or when its route is no longer configured. Every attempt and drop is
// journaled and counted (CountsFile). Routes are delivered to
// concurrently; another sender working on the same spool never attempts
// the same entry at once (claim). The error reports spool and count
// files that could not be written; what was delivered is in the result.
func Flush(ctx context.Context, sp Spool, routes []Route, opts FlushOptions) (FlushResult, error) {
	f := &flusher{spool: sp, opts: opts, routes: map[string]*Route{}, held: map[string]time.Time{},
		later: map[string]time.Time{}, done: make(chan string), sem: make(chan struct{}, parallel)}
	for i := range routes {
		f.routes[routes[i].Name] = &routes[i]
	}
	err := f.run(ctx)
	n, cerr := sp.Count()
	f.res.Pending = n
	return f.res, errors.Join(err, cerr, errors.Join(f.errs...))
}

type flusher struct {
	spool  Spool
	opts   FlushOptions
	routes map[string]*Route

	mu   sync.Mutex
	res  FlushResult
	errs []error
	// held: a route whose receiver did not answer waits until its retry;
	// later: an entry this run attempted (or found busy) waits until then.
	held  map[string]time.Time
	later map[string]time.Time

	done chan string // a worker finished its route
	sem  chan struct{}
}

func (f *flusher) now() time.Time {
	if f.opts.Now != nil {
		return f.opts.Now()
	}
	return time.Now()
}

// run hands each route's due entries to a worker, and looks again when a
// worker finishes, an entry comes due, or every poll while it waits.
func (f *flusher) run(ctx context.Context) error {
	start := f.now()
	deadline := start.Add(f.opts.Wait)
	busy := map[string]bool{}
	defer func() {
		for len(busy) > 0 {
			delete(busy, <-f.done)
		}
	}()
	for first := true; ; first = false {
		entries, bad, err := f.spool.Entries()
		if err != nil {
			return err
		}
		f.mu.Lock()
		f.res.Bad = bad
		f.mu.Unlock()
		now := f.now()
		batches := map[string][]*Entry{}
		var wake time.Time // when the next entry this run waits for comes due
		for _, e := range entries {
			r := f.routes[e.Route]
			if r == nil {
				f.dropUnattempted(e, nil, "its route is no longer configured", now)
				continue
			}
			if busy[e.Route] {
				continue
			}
			f.mu.Lock()
			due := latest(e.Next, f.held[e.Route], f.later[e.fileName()])
			if first && f.opts.All {
				due = start
			}
			held := f.held[e.Route].After(now)
			f.mu.Unlock()
			switch {
			case !due.After(now):
				batches[e.Route] = append(batches[e.Route], e)
			case held && !now.Before(e.Spooled.Add(retryFor(r))):
				f.dropUnattempted(e, r, "retry_for has passed while its receiver did not answer", now)
			case !due.After(deadline) && (wake.IsZero() || due.Before(wake)):
				wake = due
			}
		}
		for name, batch := range batches {
			busy[name] = true
			go f.work(ctx, f.routes[name], batch, first && f.opts.All)
		}
		if len(busy) == 0 && wake.IsZero() {
			return nil
		}
		sleep := poll
		if !wake.IsZero() {
			sleep = min(max(wake.Sub(now), 0), poll)
		}
		t := time.NewTimer(sleep)
		select {
		case name := <-f.done:
			delete(busy, name)
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		t.Stop()
	}
}

// work attempts the entries of route r in order, until its receiver fails
// to answer; the rest wait for that retry (Deferred).
func (f *flusher) work(ctx context.Context, r *Route, batch []*Entry, all bool) {
	defer func() { f.done <- r.Name }()
	select {
	case f.sem <- struct{}{}:
		defer func() { <-f.sem }()
	case <-ctx.Done():
		return
	}
	dfd, err := scan.OpenDir(f.spool.Dir)
	if err != nil {
		f.fail(fmt.Errorf("alert spool: %w", err))
		return
	}
	defer unix.Close(dfd)
	for i, listed := range batch {
		if ctx.Err() != nil {
			return
		}
		e, release, err := claim(dfd, listed.fileName())
		switch {
		case errors.Is(err, errBusy):
			f.wait(listed.fileName(), f.now().Add(poll))
			continue
		case errors.Is(err, errGone):
			continue
		case err != nil:
			f.fail(err)
			f.wait(listed.fileName(), f.now().Add(poll))
			continue
		case !all && e.Next.After(f.now()):
			release() // another sender rescheduled it since it was listed
			continue
		}
		at := Send(ctx, r, &e.Alert, f.opts.Version)
		if at.Outcome != Delivered && ctx.Err() != nil {
			release() // stopped, not answered: it stays as it was
			return
		}
		now := f.now()
		outcome, reason := settle(e, r, &at, now)
		f.record(e, r, &at, outcome, reason, now)
		release()
		if outcome == Failed && at.Unanswered {
			f.mu.Lock()
			f.held[r.Name] = e.Next
			f.res.Deferred += len(batch) - i - 1
			f.mu.Unlock()
			return
		}
	}
}

// record writes what became of e back to the spool (removed, or
// rescheduled), journals it and counts it.
func (f *flusher) record(e *Entry, r *Route, at *Attempt, outcome, reason string, now time.Time) {
	var err error
	if outcome == Failed {
		err = f.spool.Put(e)
		f.wait(e.fileName(), e.Next)
	} else {
		err = f.spool.Remove(e)
	}
	if err != nil {
		f.fail(err)
	}
	emit(f.opts.Sink, r, e, at, outcome, reason, now)
	if r != nil { // the metrics count configured routes only
		if err := addCount(f.spool.Dir, e.Route, outcome, f.routes); err != nil {
			f.fail(err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch outcome {
	case Delivered:
		f.res.Delivered++
	case Failed:
		f.res.Failed++
	default:
		f.res.Dropped++
	}
}

// dropUnattempted drops e without an attempt (r nil: its route is gone),
// under its claim like any attempt.
func (f *flusher) dropUnattempted(listed *Entry, r *Route, reason string, now time.Time) {
	dfd, err := scan.OpenDir(f.spool.Dir)
	if err != nil {
		f.fail(fmt.Errorf("alert spool: %w", err))
		return
	}
	defer unix.Close(dfd)
	e, release, err := claim(dfd, listed.fileName())
	if err != nil {
		if !errors.Is(err, errBusy) && !errors.Is(err, errGone) {
			f.fail(err)
		}
		return
	}
	defer release()
	f.record(e, r, nil, Dropped, reason, now)
}

func (f *flusher) wait(name string, until time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.later[name] = until
}

func (f *flusher) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, err)
}

func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}
