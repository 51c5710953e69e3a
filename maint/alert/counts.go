package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
	"golang.org/x/sys/unix"
)

// CountsFile holds, in the spool directory, how many alerts the sender
// delivered, retried and dropped per route since the file was made: the
// counters of gomaint_alerts_sent_total, kept by the unprivileged sender
// for the daemon that writes the metrics.
const CountsFile = "counts.json"

// maxCounts bounds what is read of the counts file: the daemon reads, as
// root, a file the sender's user wrote.
const maxCounts = 256 << 10

// Counts are outcomes by route: route -> outcome -> alerts.
type Counts map[string]map[string]uint64

// addCount adds one outcome of route to the counts file in dir. Senders
// running at once take turns by a flock on the directory (the file itself
// is replaced on every write); routes no longer configured are let go.
func addCount(dir, route, outcome string, routes map[string]*Route) error {
	dfd, err := scan.OpenDir(dir)
	if err != nil {
		return fmt.Errorf("alert counts: %w", err)
	}
	defer unix.Close(dfd)
	if err := unix.Flock(dfd, unix.LOCK_EX); err != nil {
		return fmt.Errorf("alert counts: lock %s: %w", dir, err)
	}
	c, _ := readCounts(dfd) // a damaged file starts again from zero: a counter reset
	c = c.only(func(r string) bool { _, ok := routes[r]; return ok })
	if c[route] == nil {
		c[route] = map[string]uint64{}
	}
	c[route][outcome]++
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(dfd, &st); err != nil {
		return fmt.Errorf("alert counts: %w", err)
	}
	if err := safefs.WriteAtomicGroup(dir, CountsFile, append(data, '\n'), 0o640, int(st.Gid)); err != nil {
		return fmt.Errorf("alert counts: %w", err)
	}
	return nil
}

// ReadCounts reads the counts the sender kept in the spool directory dir,
// for the metrics: every route of routes with every outcome, zero when
// the file has none; nothing else the file holds, whoever wrote it. A
// missing file is all zeros.
func ReadCounts(dir string, routes []Route) (Counts, error) {
	var c Counts
	dfd, err := scan.OpenDir(dir)
	if err == nil {
		c, err = readCounts(dfd)
		unix.Close(dfd)
	}
	if errors.Is(err, unix.ENOENT) {
		err = nil // no spool yet, or nothing sent yet
	}
	if err != nil {
		err = fmt.Errorf("alert counts in %s: %w", dir, err)
	}
	out := Counts{}
	for _, r := range routes {
		out[r.Name] = map[string]uint64{}
		for _, o := range Outcomes {
			out[r.Name][o] = c[r.Name][o]
		}
	}
	return out, err
}

// readCounts reads the counts file of the directory open at dfd: a regular
// file, not a link, of bounded size.
func readCounts(dfd int) (Counts, error) {
	c := Counts{}
	fd, err := unix.Openat(dfd, CountsFile, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return c, err
	}
	f := os.NewFile(uintptr(fd), CountsFile)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return c, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return c, fmt.Errorf("%s is not a regular file", CountsFile)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCounts+1))
	if err != nil {
		return c, err
	}
	if len(data) > maxCounts {
		return c, fmt.Errorf("%s is larger than %d bytes", CountsFile, maxCounts)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return Counts{}, fmt.Errorf("%s: %w", CountsFile, err)
	}
	return c.only(func(string) bool { return true }), nil
}

// only is c with the routes keep keeps and the known outcomes.
func (c Counts) only(keep func(route string) bool) Counts {
	out := Counts{}
	for r, byOutcome := range c {
		if !keep(r) {
			continue
		}
		out[r] = map[string]uint64{}
		for o, n := range byOutcome {
			if slices.Contains(Outcomes, o) {
				out[r][o] = n
			}
		}
	}
	return out
}

// Figures are the spool's figures for the metrics: attempts by route and
// outcome (ReadCounts), and how many alerts wait.
func (sp Spool) Figures(routes []Route) (sent map[string]map[string]int64, waiting int64, err error) {
	c, err := ReadCounts(sp.Dir, routes)
	sent = map[string]map[string]int64{}
	for route, outcomes := range c {
		sent[route] = map[string]int64{}
		for o, n := range outcomes {
			sent[route][o] = int64(n)
		}
	}
	n, cerr := sp.Count()
	return sent, int64(n), errors.Join(err, cerr)
}
