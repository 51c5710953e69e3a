// The -daemon mode's counting load: how many inotify events a second the
// watch keeps up with while it counts hits and misses, and the daemon's CPU
// per 1,000 events.

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/daemon"
)

// countStep is one paced load: go's lookups as the watch sees them, nine
// hits (an action entry opened read-only: one IN_CLOSE_NOWRITE) to a miss
// (a new action entry written in place: IN_CREATE and IN_CLOSE_WRITE).
type countStep struct {
	rate         int // events a second asked for; 0: as fast as one thread goes
	hits, misses int64
	secs         float64
	counted      daemon.Counters
	partial      string
	cpuNS        int64
	keptUp       bool
}

func (s countStep) events() int64 { return s.hits + 2*s.misses }

// countRates are the paced steps; the last runs flat out.
var countRates = []int{5_000, 20_000, 80_000, 0}

// countLoad runs the steps against the running daemon.
func (r *daemonRun) countLoad(ctx context.Context, pid int, sock string) ([]countStep, error) {
	hits, err := actionEntries(r.bld, 4096)
	if err != nil {
		return nil, err
	}
	each := 3 * time.Second
	if r.b.o.quick {
		each = time.Second
	}
	var steps []countStep
	for _, rate := range countRates {
		if _, err := daemon.Ask(ctx, sock, daemon.Request{Command: "zero"}); err != nil {
			return steps, fmt.Errorf("zero the counts: %v", err)
		}
		before, err := readProc(pid)
		if err != nil {
			return steps, err
		}
		s := countStep{rate: rate}
		if err := lookups(ctx, r.bld, hits, rate, each, &s); err != nil {
			return steps, err
		}
		// Let the daemon read what is queued, then ask what it counted.
		if err := sleepCtx(ctx, 2*time.Second); err != nil {
			return steps, err
		}
		after, err := readProc(pid)
		if err != nil {
			return steps, err
		}
		resp, err := daemon.Ask(ctx, sock, daemon.Request{Command: "status"})
		if err != nil {
			return steps, err
		}
		for _, t := range resp.Status.Targets {
			if t.Stats != nil && t.Stats.Counted {
				s.counted, s.partial = t.Stats.Total, t.Stats.Partial
			}
		}
		s.cpuNS = after.runNS - before.runNS
		s.keptUp = s.partial == "" && s.counted.Hits == s.hits && s.counted.Misses == s.misses
		steps = append(steps, s)
		fmt.Printf("counting at %s events/s asked: %d hits and %d misses made, %d and %d counted%s\n",
			rateName(rate), s.hits, s.misses, s.counted.Hits, s.counted.Misses, map[bool]string{true: "", false: " (" + s.partial + ")"}[s.partial == ""])
	}
	return steps, nil
}

func rateName(rate int) string {
	if rate == 0 {
		return "unpaced"
	}
	return commas(int64(rate))
}

// actionEntries lists up to n action entries of the cache.
func actionEntries(root string, n int) ([]string, error) {
	var out []string
	for i := 0; i < 256 && len(out) < n; i++ {
		shard := filepath.Join(root, fmt.Sprintf("%02x", i))
		es, err := os.ReadDir(shard)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if strings.HasSuffix(e.Name(), "-a") && len(out) < n {
				out = append(out, filepath.Join(shard, e.Name()))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no action entries in %s", root)
	}
	return out, nil
}

// lookups makes hits and misses at rate events a second for d.
func lookups(ctx context.Context, root string, hits []string, rate int, d time.Duration, s *countStep) error {
	buf := make([]byte, 256)
	entry := make([]byte, 175)
	start := time.Now()
	for i := 0; ; i++ {
		if i%100 == 0 {
			el := time.Since(start)
			if el >= d || ctx.Err() != nil {
				s.secs = el.Seconds()
				return ctx.Err()
			}
			if rate > 0 {
				if ahead := time.Duration(float64(s.events())/float64(rate)*float64(time.Second)) - el; ahead > 0 {
					time.Sleep(ahead)
				}
			}
		}
		if i%10 != 9 {
			fd, err := unix.Open(hits[i%len(hits)], unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			unix.Read(fd, buf)
			unix.Close(fd)
			s.hits++
			continue
		}
		id := make([]byte, 32)
		rand.Read(id)
		h := hex.EncodeToString(id)
		fd, err := unix.Open(filepath.Join(root, h[:2], h+"-a"), unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return err
		}
		unix.Write(fd, entry)
		unix.Close(fd)
		s.misses++
	}
}
