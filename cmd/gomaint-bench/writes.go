// The -daemon mode's write figures (issue 21): what gomaint serve itself
// writes while idle, for one audit, and while builds grow its watched
// cache past its limit. /proc/PID/io gives the process's totals
// (write_bytes: what it sent to storage, page by page; syscw: its write
// calls, sockets included); the status's io gives them per file, with
// fsyncs, counted by the daemon as it writes (safefs.Written), and the
// events it sent the journal, whose own writes are journald's. Counting
// in the daemon, rather than strace -f -e fsync, attributes each fsync to
// its file and costs nothing: under ptrace every traced call stops the
// daemon, and its CPU is measured in the same run.

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomaint/gomaint/maint/daemon"
	"github.com/gomaint/gomaint/maint/safefs"
)

// targetIdleWritesPerHour is issue 21's budget: idle writes well under
// 1 MiB an hour, counted as an hour of the default schedules (one audit,
// four safety-net rescans) over the idle window's timers.
const targetIdleWritesPerHour = 1 << 20

// buildEntryBytes is what each synthetic build entry writes (its output;
// the action entry is 175 bytes), and buildEntriesPerSec the build's rate.
const (
	buildEntryBytes    = 64 << 10
	buildEntriesPerSec = 20
)

// ioSample is what the daemon had written at one moment.
type ioSample struct {
	at                 time.Time
	writeBytes, syscw  int64
	files              map[string]safefs.Stats
	events, eventBytes int64
}

// ioNow reads the daemon's status, then /proc/PID/io: a span between two
// samples holds one write of the daemon's own, the answer to the second.
func ioNow(ctx context.Context, pid int, sock string) (ioSample, error) {
	s := ioSample{at: time.Now()}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := daemon.Ask(ctx, sock, daemon.Request{Command: "status"})
	if err != nil {
		return s, fmt.Errorf("status: %v", err)
	}
	if resp.Status == nil || resp.Status.IO == nil {
		return s, fmt.Errorf("the status has no io")
	}
	io := resp.Status.IO
	s.files, s.events, s.eventBytes = io.Files, io.JournalEvents, io.JournalBytes
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return s, err
	}
	for line := range strings.Lines(string(data)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "write_bytes":
			s.writeBytes = n
		case "syscw":
			s.syscw = n
		}
	}
	return s, nil
}

// ioSpan is what was written between two samples.
type ioSpan struct {
	name               string
	secs               float64
	writeBytes, syscw  int64
	files              map[string]safefs.Stats // by file name; "dir/" a directory's fsyncs
	events, eventBytes int64
}

func spanOf(name string, a, b ioSample) ioSpan {
	s := ioSpan{name: name, secs: b.at.Sub(a.at).Seconds(), writeBytes: b.writeBytes - a.writeBytes, syscw: b.syscw - a.syscw - 1, // ioNow's answer
		files: map[string]safefs.Stats{}, events: b.events - a.events, eventBytes: b.eventBytes - a.eventBytes}
	for path, st := range b.files {
		was := a.files[path]
		d := safefs.Stats{Writes: st.Writes - was.Writes, Bytes: st.Bytes - was.Bytes, Fsyncs: st.Fsyncs - was.Fsyncs}
		if d != (safefs.Stats{}) {
			name := filepath.Base(path)
			if strings.HasSuffix(path, "/") {
				name = "state directory (fsync)"
				if filepath.Base(path) == "metrics" {
					name = "metrics_dir (fsync)"
				}
			}
			s.files[name] = d
		}
	}
	return s
}

// perHour scales a span to an hour (runs: 1 means the span's figures as they are).
func (s ioSpan) scale(f float64) ioSpan {
	o := s
	o.writeBytes, o.syscw = int64(float64(s.writeBytes)*f), int64(float64(s.syscw)*f)
	o.events, o.eventBytes = int64(float64(s.events)*f), int64(float64(s.eventBytes)*f)
	o.files = map[string]safefs.Stats{}
	for k, v := range s.files {
		o.files[k] = safefs.Stats{Writes: int64(float64(v.Writes) * f), Bytes: int64(float64(v.Bytes) * f), Fsyncs: int64(float64(v.Fsyncs) * f)}
	}
	return o
}

func (s ioSpan) hourly() ioSpan { return s.scale(3600 / s.secs) }

// plus adds o's figures to s.
func (s ioSpan) plus(o ioSpan) ioSpan {
	r := s.scale(1)
	r.writeBytes += o.writeBytes
	r.syscw += o.syscw
	r.events += o.events
	r.eventBytes += o.eventBytes
	for k, v := range o.files {
		w := r.files[k]
		r.files[k] = safefs.Stats{Writes: w.Writes + v.Writes, Bytes: w.Bytes + v.Bytes, Fsyncs: w.Fsyncs + v.Fsyncs}
	}
	return r
}

// fileBytes is the content the daemon wrote to its files in s.
func (s ioSpan) fileBytes() int64 {
	var n int64
	for _, v := range s.files {
		n += v.Bytes
	}
	return n
}

// idleHour is an hour of the default schedules: the idle window's timers
// scaled to an hour, one audit, and four safety-net rescans, each counted
// as writing the status and the metrics in full (what a rescan writes
// when the file system's free space moved; nothing when no figure did).
func idleHour(idle, audit ioSpan) ioSpan {
	h := idle.hourly().plus(audit)
	rescans := int64(time.Hour / daemon.DefaultIntervals().SafetyNet)
	for name, st := range audit.files {
		if name == "status.json" || name == "gomaint.prom" {
			per := safefs.Stats{Writes: rescans, Bytes: rescans * st.Bytes / max(st.Writes, 1), Fsyncs: rescans}
			h = h.plus(ioSpan{files: map[string]safefs.Stats{name: per}})
		}
	}
	for name, st := range audit.files {
		if strings.HasSuffix(name, "(fsync)") {
			h = h.plus(ioSpan{files: map[string]safefs.Stats{name: {Fsyncs: rescans * min(st.Fsyncs, 1)}}})
		}
	}
	h.writeBytes += rescans * roundPages(h.files["status.json"].Bytes/max(h.files["status.json"].Writes, 1)+
		h.files["gomaint.prom"].Bytes/max(h.files["gomaint.prom"].Writes, 1))
	h.name = "idle hour (modelled)"
	return h
}

func roundPages(n int64) int64 { return (n + 4095) / 4096 * 4096 }

// printWrites prints the spans side by side, one row per file.
func printWrites(spans ...ioSpan) {
	names := map[string]bool{}
	for _, s := range spans {
		for n := range s.files {
			names[n] = true
		}
	}
	var rows []string
	for n := range names {
		rows = append(rows, n)
	}
	sort.Strings(rows)
	var b bytes.Buffer
	fmt.Fprintf(&b, "%-28s", "what the daemon wrote")
	for _, s := range spans {
		fmt.Fprintf(&b, "  %34s", s.name)
	}
	b.WriteString("\n")
	cell := func(bytes, writes, fsyncs int64) string {
		return fmt.Sprintf("%s, %d wr, %d fsync", kib(bytes), writes, fsyncs)
	}
	for _, n := range rows {
		fmt.Fprintf(&b, "%-28s", n)
		for _, s := range spans {
			v := s.files[n]
			fmt.Fprintf(&b, "  %34s", cell(v.Bytes, v.Writes, v.Fsyncs))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-28s", "journal events (fields)")
	for _, s := range spans {
		fmt.Fprintf(&b, "  %34s", fmt.Sprintf("%d events, %s", s.events, kib(s.eventBytes)))
	}
	fmt.Fprintf(&b, "\n%-28s", "/proc io: write_bytes, syscw")
	for _, s := range spans {
		fmt.Fprintf(&b, "  %34s", fmt.Sprintf("%s, %d calls", kib(s.writeBytes), s.syscw))
	}
	b.WriteString("\n")
	os.Stdout.Write(b.Bytes())
}

func kib(n int64) string { return fmt.Sprintf("%.1f KiB", float64(n)/1024) }

// buildWindow grows the watched build cache as builds would, for d, at
// buildEntriesPerSec entries of buildEntryBytes, after a reload that sets
// its limit just above its size: the daemon trims it back at every
// crossing, and publishes after each trim.
func (r *daemonRun) buildWindow(ctx context.Context, p *serveProc, n *notifyConn, sock string, d time.Duration) (ioSpan, int, error) {
	disk, err := diskUsage(r.bld)
	if err != nil {
		return ioSpan{}, 0, err
	}
	if err := r.writeConfigLimit(disk+4<<20, disk+2<<20); err != nil {
		return ioSpan{}, 0, err
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return ioSpan{}, 0, err
	}
	if _, err := p.await(ctx, n, daemonAuditWithin, "READY=1 after the reload", func(s string) bool { _, ok := field(s, "READY"); return ok }); err != nil {
		return ioSpan{}, 0, err
	}
	if err := sleepCtx(ctx, 2*time.Second); err != nil { // the rescan after the reload
		return ioSpan{}, 0, err
	}
	a, err := ioNow(ctx, p.pid(), sock)
	if err != nil {
		return ioSpan{}, 0, err
	}
	data := bytes.Repeat([]byte("gomaint-bench build output\n"), buildEntryBytes/27+1)[:buildEntryBytes]
	tick := time.NewTicker(time.Second / buildEntriesPerSec)
	defer tick.Stop()
	end := time.Now().Add(d)
	t := &tally{}
	for i := 1 << 30; time.Now().Before(end); i++ {
		select {
		case <-ctx.Done():
			return ioSpan{}, 0, ctx.Err()
		case <-tick.C:
		}
		action, output := entryID('a', i), entryID('d', i)
		// The output first, the action entry last, as go writes them.
		if err := t.file(entryPath(r.bld, output, 'd'), 0, data, 0o644, time.Time{}); err != nil {
			return ioSpan{}, 0, err
		}
		if err := t.file(entryPath(r.bld, action, 'a'), 0, fmt.Appendf(nil, "v1 %x %x %20d %20d\n", action, output, len(data), time.Now().UnixNano()), 0o644, time.Time{}); err != nil {
			return ioSpan{}, 0, err
		}
	}
	sleepCtx(ctx, time.Second) // the last trim's publish
	b, err := ioNow(ctx, p.pid(), sock)
	if err != nil {
		return ioSpan{}, 0, err
	}
	trims := 0
	for _, m := range n.since(a.at) {
		if v, ok := field(m.msg, "STATUS"); ok && strings.Contains(v, "running clean of build (limit)") {
			trims++
		}
	}
	return spanOf("building, per hour", a, b).hourly(), trims, nil
}
