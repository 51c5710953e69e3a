package workset

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/layout"
	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
	"github.com/gomaint/gomaint/maint/trim"
)

// Set is a run's working set as the cache holds it once the run ended.
type Set struct {
	Entries int   // action entries looked up or written, still there
	Bytes   int64 // their disk usage, with their outputs'
	Lost    int   // action entries used but gone or unreadable since

	actions map[string]bool // action ids to keep
	outputs map[string]bool // output ids the kept actions name, or written
	mu      sync.Mutex      // for Set's readers
}

// setWorkers read action entries at once, a shard each: each read is a
// few syscalls that mostly wait on the file system, and a build uses
// thousands.
const setWorkers = 4

// Set reads every action entry the run used for the output it names, and
// measures them, or takes what the prefetcher read of them. Call it after
// Stop: its reads are not lookups.
func (b *Build) Set() *Set {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &Set{actions: make(map[string]bool, len(b.used)), outputs: make(map[string]bool, len(b.used)+len(b.written))}
	for id := range b.written {
		s.outputs[id] = true
	}
	named := map[string]bool{}
	addAction := func(id string, r readEntry) {
		s.actions[id] = true
		if r.err != nil {
			s.Lost++
			return
		}
		s.Entries++
		s.Bytes += r.size
		if r.out != "" {
			named[r.out] = true
		}
	}
	var unread []string
	for id := range b.used {
		if r, ok := b.pf.actions[id]; ok {
			addAction(id, r)
		} else {
			unread = append(unread, id)
		}
	}
	eachShard(b.Root, unread, func(fd int, id string) {
		out, size, err := b.readAction(fd, id+"-a", nil)
		s.add(func() { addAction(id, readEntry{out: out, size: size, err: err}) })
	})
	var unmeasured []string
	for out := range named {
		if size, ok := b.pf.outputs[out]; ok {
			s.outputs[out] = true
			s.Bytes += size
		} else {
			unmeasured = append(unmeasured, out)
		}
	}
	eachShard(b.Root, unmeasured, func(fd int, out string) {
		size := b.measureOutput(fd, out+"-d")
		s.add(func() {
			s.outputs[out] = true
			s.Bytes += size
		})
	})
	return s
}

// add changes the set from one of eachShard's workers.
func (s *Set) add(change func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change()
}

// eachShard calls fn for every id with the fd of the shard that holds it,
// in setWorkers goroutines that take a shard at a time, so that at most
// setWorkers shards are open. Ids whose shard cannot be opened get fd -1,
// which every *at call refuses.
func eachShard(root *safefs.Root, ids []string, fn func(fd int, id string)) {
	byShard := groupByShard(ids)
	shards := slices.Collect(maps.Keys(byShard))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range setWorkers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(shards); i = int(next.Add(1) - 1) {
				inShard(root, shards[i], byShard[shards[i]], fn)
			}
		})
	}
	wg.Wait()
}

// groupByShard groups entry ids by the shard that holds them.
func groupByShard(ids []string) map[string][]string {
	byShard := map[string][]string{}
	for _, id := range ids {
		byShard[id[:2]] = append(byShard[id[:2]], id)
	}
	return byShard
}

// inShard calls fn for each of ids with the shard open at fd, or -1 when
// it cannot be opened, which every *at call refuses.
func inShard(root *safefs.Root, shard string, ids []string, fn func(fd int, id string)) {
	fd, err := root.OpenDir(shard)
	if err != nil {
		fd = -1
	}
	for _, id := range ids {
		fn(fd, id)
	}
	if fd >= 0 {
		unix.Close(fd)
	}
}

// entrySize is the length of an action entry go writes:
// "v1 <action id> <output id> <size, 20> <time, 20>\n".
const entrySize = 2 + 1 + idLen + 1 + idLen + 1 + 20 + 1 + 20 + 1

// readAction returns the output id the action entry name names ("" when
// it is not in go's format) and the entry's disk usage; it counts the
// entry in opened, when set, if it opened it.
func (b *Build) readAction(dirfd int, name string, opened *atomic.Int64) (out string, size int64, err error) {
	fd, err := b.Root.OpenFile(dirfd, name, unix.O_RDONLY)
	if err != nil {
		return "", 0, err
	}
	if opened != nil {
		opened.Add(1)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", 0, fmt.Errorf("stat %s: %w", name, err)
	}
	var buf [entrySize + 1]byte
	n, err := unix.Read(fd, buf[:])
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", name, err)
	}
	// One read returns a file this small whole; one read short of
	// entrySize is not in go's format, as a longer one is not.
	if n != entrySize || string(buf[:3]) != "v1 " || buf[3+idLen] != ' ' || buf[4+2*idLen] != ' ' {
		return "", st.Blocks * 512, nil
	}
	return string(buf[4+idLen : 4+2*idLen]), st.Blocks * 512, nil
}

// measureOutput is the disk usage of an output: a file, or the directory
// of a cached executable.
func (b *Build) measureOutput(dirfd int, name string) int64 {
	st, err := b.Root.Stat(dirfd, name)
	if err != nil {
		return 0
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return int64(st.Blocks) * 512
	}
	t, err := scan.Subtree(dirfd, name, b.Root.Mount())
	if err != nil {
		return 0
	}
	return t.DiskBytes
}

// youngSlack widens "changed since the run began" by file systems'
// coarsest timestamps, so that doubt keeps an entry.
const youngSlack = 2 * time.Second

// Prune removes every action, output and executable entry the set does
// not hold and that has not changed since the run began, through
// trim.Prune (the removal a clean uses). The caller holds the cache's
// lock.
func (b *Build) Prune(ctx context.Context, s *Set, opt trim.Options) (*trim.Result, error) {
	since := b.Start.Add(-youngSlack).UnixNano()
	keep := func(kind layout.Kind, name []byte, st *unix.Statx_t) bool {
		if len(name) < idLen || max(nsOf(st.Mtime), nsOf(st.Ctime)) >= since {
			return true
		}
		if kind == layout.ActionEntry {
			return s.actions[string(name[:idLen])]
		}
		return s.outputs[string(name[:idLen])]
	}
	return trim.Prune(ctx, b.Root, keep, opt)
}

func nsOf(t unix.StatxTimestamp) int64 { return t.Sec*1e9 + int64(t.Nsec) }
