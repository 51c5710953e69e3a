package workset

import (
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gomaint/gomaint/maint/scan"
)

// The prefetcher reads the action entries a run uses, and measures the
// outputs they name, while the command still runs, so that Set, after it,
// has only the last few to read: reading 700 entries once the command had
// ended took 6 to 10 ms of the run's own time. It reads on a thread at low
// priority (scan.LowerThread: nice 10, idle I/O), once lookups pause: go looks entries up in
// bursts and then links, when a core is idle, and a burst read at once
// opens each shard once.
//
// Its reads are lookups to the watch (each open of an action entry ends
// in an IN_CLOSE_NOWRITE), so it counts them for Hits to discount. A read
// is stale when its entry is written or removed after it began: such an
// entry is read again, by the prefetcher or by Set.
type prefetcher struct {
	bell chan struct{} // rung when ids are pending; capacity 1
	stop chan struct{}
	done chan struct{}
	own  atomic.Int64 // action entries the prefetcher opened

	// Under Build.mu:
	pending []string             // action ids to read
	actions map[string]readEntry // action id -> what it held
	outputs map[string]int64     // output id -> disk usage
	gen     map[entryKey]uint32  // bumped when an entry changes
}

type readEntry struct {
	out  string // the output it names, "" when none
	size int64  // its own disk usage
	err  error  // why it could not be read
}

type entryKey struct {
	id     string
	output bool
}

// quiet is how long no new id must come before the prefetcher reads; and
// it reads regardless once maxPending wait.
const (
	quiet      = 10 * time.Millisecond
	maxPending = 512
)

func newPrefetcher() *prefetcher {
	return &prefetcher{bell: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		actions: map[string]readEntry{}, outputs: map[string]int64{}, gen: map[entryKey]uint32{}}
}

// queue asks for the action id to be read (under Build.mu).
func (p *prefetcher) queue(id string) {
	p.pending = append(p.pending, id)
	select {
	case p.bell <- struct{}{}:
	default:
	}
}

// changed forgets what was read of an entry written or removed since
// (under Build.mu).
func (p *prefetcher) changed(id string, output bool) {
	k := entryKey{id, output}
	p.gen[k]++
	if output {
		delete(p.outputs, id)
	} else {
		delete(p.actions, id)
	}
}

// prefetch is the prefetcher's goroutine, until Stop.
func (b *Build) prefetch() {
	p := b.pf
	defer close(p.done)
	_ = scan.LowerThread() // a thread at normal priority is slower, never wrong
	for {
		select {
		case <-p.stop:
			return
		case <-p.bell:
		}
		if !b.waitQuiet() {
			return
		}
		b.mu.Lock()
		ids := p.pending
		p.pending = nil
		b.mu.Unlock()
		if !b.readAhead(ids) {
			return
		}
	}
}

// waitQuiet waits until no id has been queued for quiet, or maxPending
// are; false when stopped meanwhile.
func (b *Build) waitQuiet() bool {
	t := time.NewTimer(quiet)
	defer t.Stop()
	for {
		b.mu.Lock()
		n := len(b.pf.pending)
		b.mu.Unlock()
		if n >= maxPending {
			return true
		}
		select {
		case <-b.pf.stop:
			return false
		case <-t.C:
			b.mu.Lock()
			same := len(b.pf.pending) == n
			b.mu.Unlock()
			if same {
				return true
			}
			t.Reset(quiet)
		}
	}
}

// readAhead reads the action entries ids and measures the outputs they
// name, a shard at a time; false when stopped meanwhile.
func (b *Build) readAhead(ids []string) bool {
	p := b.pf
	var outs []string
	ok := b.byShard(ids, func(fd int, id string) {
		g := b.genOf(id, false)
		out, size, err := b.readAction(fd, id+"-a", &p.own)
		b.mu.Lock()
		defer b.mu.Unlock()
		if p.gen[entryKey{id, false}] == g {
			p.actions[id] = readEntry{out: out, size: size, err: err}
		}
		if _, done := p.outputs[out]; out != "" && !done {
			outs = append(outs, out)
		}
	})
	return ok && b.byShard(outs, func(fd int, out string) {
		g := b.genOf(out, true)
		size := b.measureOutput(fd, out+"-d")
		b.mu.Lock()
		defer b.mu.Unlock()
		if p.gen[entryKey{out, true}] == g {
			p.outputs[out] = size
		}
	})
}

func (b *Build) genOf(id string, output bool) uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pf.gen[entryKey{id, output}]
}

// byShard is eachShard on the prefetcher's own thread, a shard at a time;
// false when stopped first.
func (b *Build) byShard(ids []string, fn func(fd int, id string)) bool {
	groups := groupByShard(ids)
	for _, shard := range slices.Sorted(maps.Keys(groups)) {
		select {
		case <-b.pf.stop:
			return false
		default:
		}
		inShard(b.Root, shard, groups[shard], fn)
	}
	return true
}
