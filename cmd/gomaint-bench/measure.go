package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"
)

// tool is a command timed on the trees.
type tool struct {
	name    string
	argv    []string
	okCodes []int // exit statuses besides 0 that still mean it worked
}

// sample is one run of a tool.
type sample struct {
	wall     time.Duration
	cpu      time.Duration // user + system, to tell work from waiting
	rssKiB   int64         // peak RSS, from the child's rusage
	floorKiB int64         // our own RSS when it started (see lowerFloor)
	out      []byte
}

// runs holds a tool's timed runs.
type runs struct{ warm, cold []sample }

func gomaintTool(bin, cfg string) tool {
	// gomaint exits 1 when it has findings, which is not a failure here.
	return tool{name: "gomaint", argv: []string{bin, "audit", "--config", cfg, "--json", "--log", "none"}, okCodes: []int{1}}
}

func (t tool) run(ctx context.Context) (sample, error) {
	floor := lowerFloor()
	cmd := exec.CommandContext(ctx, t.argv[0], t.argv[1:]...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		return sample{}, fmt.Errorf("%s: %v", t.name, err)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 && !slices.Contains(t.okCodes, code) {
		return sample{}, fmt.Errorf("%s: %v\n%s", strings.Join(t.argv, " "), err, stderr.Bytes())
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return sample{wall: wall, cpu: cpu, rssKiB: rss, floorKiB: floor, out: out.Bytes()}, nil
}

// lowerFloor keeps our memory out of the next child's Maxrss as far as it
// can. Go starts children with vfork, and exec records the memory it
// leaves, ours, as the child's peak RSS so far: a child's Maxrss is at
// least our peak RSS. So we give free memory back and reset our peak to our
// current RSS (clear_refs 5), and return that floor, below which a child's
// peak cannot be seen. (Maxrss also covers the child's own children, such
// as the go env that gomaint runs.)
func lowerFloor() (kib int64) {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	status, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Sscan(rest, &kib)
		}
	}
	return kib
}

// measure runs each tool once untimed, then warm rounds and cold rounds of
// every tool in turn, so that drift on the machine hits all tools alike.
// Before each cold run the page cache is dropped.
func measure(ctx context.Context, tools []tool, warm, cold int) ([]runs, error) {
	res := make([]runs, len(tools))
	for _, t := range tools {
		if _, err := t.run(ctx); err != nil {
			return nil, err
		}
	}
	for range warm {
		for i, t := range tools {
			s, err := t.run(ctx)
			if err != nil {
				return nil, err
			}
			res[i].warm = append(res[i].warm, s)
		}
	}
	for range cold {
		for i, t := range tools {
			unix.Sync() // so that dirty pages are dropped too
			if err := os.WriteFile(dropCaches, []byte("3\n"), 0); err != nil {
				return nil, err
			}
			s, err := t.run(ctx)
			if err != nil {
				return nil, err
			}
			res[i].cold = append(res[i].cold, s)
		}
	}
	return res, nil
}

func printTable(tools []tool, res []runs) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "tool\tmode\truns\tmedian\tmin\tmax\tCPU (median)\tpeak RSS\t")
	for _, mode := range []string{"warm", "cold"} {
		for i, t := range tools {
			ss := res[i].warm
			if mode == "cold" {
				ss = res[i].cold
			}
			if len(ss) == 0 {
				continue
			}
			lo, hi := ss[0].wall, ss[0].wall
			for _, s := range ss {
				lo, hi = min(lo, s.wall), max(hi, s.wall)
			}
			cpu := medianBy(ss, func(s sample) time.Duration { return s.cpu })
			fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%.1f MiB\t\n", t.name, mode, len(ss),
				secs(medianWall(ss)), secs(lo.Seconds()), secs(hi.Seconds()), secs(cpu), maxRSS(ss))
		}
	}
	w.Flush()
}

// report is the part of gomaint's JSON report checked here.
type report struct {
	Caches []struct {
		Name   string `json:"name"`
		Files  int64  `json:"files"`
		Dirs   int64  `json:"dirs"`
		Bytes  int64  `json:"apparent_bytes"`
		ScanMS int64  `json:"scan_ms"`
	} `json:"caches"`
	Findings []struct {
		Code     string `json:"code"`
		Severity string `json:"severity"`
		Cache    string `json:"cache"`
	} `json:"findings"`
}

// findings lists a run's finding codes: the trees are meant to look
// healthy, so any is worth a look.
func findings(s sample) string {
	r, err := parseReport(s.out)
	if err != nil || len(r.Findings) == 0 {
		return "none"
	}
	var codes []string
	for _, f := range r.Findings {
		codes = append(codes, fmt.Sprintf("%s %s [%s]", f.Severity, f.Code, f.Cache))
	}
	return strings.Join(codes, ", ")
}

func parseReport(out []byte) (report, error) {
	var r report
	err := json.Unmarshal(out, &r)
	return r, err
}

// checkRuns checks that every timed gomaint run counted exactly the files,
// directories and bytes generated in each cache.
func checkRuns(gm runs, want map[string]*tally) error {
	for _, s := range append(gm.warm, gm.cold...) {
		r, err := parseReport(s.out)
		if err != nil {
			return fmt.Errorf("gomaint's JSON: %v", err)
		}
		if len(r.Caches) != len(want) {
			return fmt.Errorf("gomaint reported %d caches, want %d", len(r.Caches), len(want))
		}
		for _, c := range r.Caches {
			t := want[c.Name]
			if t == nil {
				return fmt.Errorf("gomaint reported an unknown cache %q", c.Name)
			}
			if c.Files != t.files.Load() || c.Dirs != t.dirs.Load() || c.Bytes != t.bytes.Load() {
				return fmt.Errorf("cache %q: gomaint counted %d files, %d dirs, %d bytes; generated %d files, %d dirs, %d bytes",
					c.Name, c.Files, c.Dirs, c.Bytes, t.files.Load(), t.dirs.Load(), t.bytes.Load())
			}
		}
	}
	return nil
}

// scanMedian is the median over runs of gomaint's own walk time of all
// caches, to tell the walks from process start-up and the other checks.
func scanMedian(ss []sample) int64 {
	var ms []float64
	for _, s := range ss {
		r, err := parseReport(s.out)
		if err != nil {
			continue
		}
		var sum int64
		for _, c := range r.Caches {
			sum += c.ScanMS
		}
		ms = append(ms, float64(sum))
	}
	return int64(median(ms))
}
