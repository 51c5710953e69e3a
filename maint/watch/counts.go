package watch

import (
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomaint/gomaint/maint/layout"
)

// Counts is what a watch saw go do with a build cache, for the daemon to
// collect (it takes the figures with Swap(0) and keeps the totals). One
// Counts outlives the watches of its cache: a cache removed and made again
// is watched anew, and counted on.
//
// What the events mean, from cmd/go/internal/cache: a lookup opens the
// action entry <hex>-a read-only, so its IN_CLOSE_NOWRITE is a hit (a
// lookup of an entry that is not there fails to open and makes no event);
// after a miss go writes the output <hex>-d, then the action entry in
// place (O_WRONLY|O_CREAT, no rename), so an action entry closed after
// writing is a miss, and its IN_CREATE a new entry.
type Counts struct {
	Hits    atomic.Int64 // action entries opened read-only and closed
	Misses  atomic.Int64 // action entries written (or moved in)
	Created atomic.Int64 // action entries created
	// Recreated counts created action entries that a trim evicted
	// recently (Evicted): the cache's limit is below what is used.
	Recreated atomic.Int64
	// WrittenBytes: st_blocks*512 of entries written, outputs and
	// action entries, the unit of max_size and of what trims free.
	WrittenBytes atomic.Int64
	Evicted      Evicted
}

// Evicted remembers the action ids trims removed in the last day, in
// bounded memory: two Bloom filters of 2^20 bits (128 KiB each, made at
// the first eviction), the current and the previous one. A filter is
// replaced after evictedSpan or evictedCap ids, whichever comes first, so
// an id is remembered for 12 to 24 hours (less when more than 100,000 are
// evicted in 12 hours), and an id never evicted is taken for evicted at
// most about 1.2% of the time (4 bits per id at 100,000 ids).
type Evicted struct {
	mu      sync.Mutex // serializes Add's rotation
	cur     atomic.Pointer[bloom]
	prev    atomic.Pointer[bloom]
	nowFunc func() time.Time
}

const (
	bloomWords  = 1 << 14 // 2^20 bits
	bloomHashes = 4
	evictedSpan = 12 * time.Hour
	evictedCap  = 100_000
)

type bloom struct {
	words [bloomWords]atomic.Uint64
	n     atomic.Int64
	start time.Time
}

// bits: the action id is a SHA-256, so its leading 80 bits are 4 good
// 20-bit indices. id is the 64 hex digits of an entry's name.
func bits(id []byte) (idx [bloomHashes]uint32, ok bool) {
	var b [10]byte
	if len(id) < 20 {
		return idx, false
	}
	if _, err := hex.Decode(b[:], id[:20]); err != nil {
		return idx, false
	}
	for i := range idx {
		bitOff := i * 20
		v := uint32(b[bitOff/8])<<16 | uint32(b[bitOff/8+1])<<8 | uint32(b[bitOff/8+2])
		idx[i] = (v >> (4 - bitOff%8)) & (1<<20 - 1)
	}
	return idx, true
}

func (f *bloom) has(idx [bloomHashes]uint32) bool {
	for _, i := range idx {
		if f.words[i/64].Load()&(1<<(i%64)) == 0 {
			return false
		}
	}
	return true
}

// Add remembers an evicted action id (the 64 hex digits of its name).
func (e *Evicted) Add(id []byte) {
	idx, ok := bits(id)
	if !ok {
		return
	}
	e.mu.Lock()
	now := e.now()
	cur := e.cur.Load()
	if cur == nil || cur.n.Load() >= evictedCap || now.Sub(cur.start) >= evictedSpan {
		e.prev.Store(cur)
		cur = &bloom{start: now}
		e.cur.Store(cur)
	}
	e.mu.Unlock()
	for _, i := range idx {
		cur.words[i/64].Or(1 << (i % 64))
	}
	cur.n.Add(1)
}

// Has reports whether id was evicted within the last 12 to 24 hours (or
// is one of the rare ids the filters mistake for one).
func (e *Evicted) Has(id []byte) bool {
	cur := e.cur.Load()
	if cur == nil {
		return false
	}
	idx, ok := bits(id)
	if !ok {
		return false
	}
	if cur.has(idx) {
		return true
	}
	prev := e.prev.Load()
	return prev != nil && e.now().Sub(prev.start) < 2*evictedSpan && prev.has(idx)
}

func (e *Evicted) now() time.Time {
	if e.nowFunc != nil {
		return e.nowFunc()
	}
	return time.Now()
}

// written counts an entry closed after writing, or moved in.
func (c *Counts) written(kind layout.Kind, diskBytes int64) {
	if c == nil {
		return
	}
	c.WrittenBytes.Add(diskBytes)
	if kind == layout.ActionEntry {
		c.Misses.Add(1)
	}
}

// created counts a new action entry.
func (c *Counts) created(name []byte) {
	if c == nil {
		return
	}
	c.Created.Add(1)
	if c.Evicted.Has(name) {
		c.Recreated.Add(1)
	}
}
