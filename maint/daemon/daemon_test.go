package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/testenv"
)

// inProcess is a daemon run by the test itself, for what the file format
// refuses (a min_age under an hour) and for measuring it.
type inProcess struct {
	notes  chan string
	events *journal.Memory
	stop   context.CancelFunc
	exited chan int
	socket string
	// stateDir holds the saved status.
	stateDir string
}

func runDaemon(t testing.TB, cfg *config.Config, with ...func(*Options)) *inProcess {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	p := &inProcess{notes: make(chan string, 4096), events: &journal.Memory{}, stop: cancel, exited: make(chan int, 1),
		socket: filepath.Join(dir, "control.sock"), stateDir: filepath.Join(dir, "state")}
	opt := Options{Scope: cfg.Scope, Environ: []string{"HOME=" + dir, "PATH=/usr/local/go/bin:/usr/bin:/bin"}, Sink: p.events,
		Notify: func(s string) {
			select {
			case p.notes <- s:
			default:
			}
		},
		Load:     func() (*config.Config, error) { return cfg, nil },
		StateDir: p.stateDir, SocketPath: p.socket, LockDir: filepath.Join(dir, "locks")}
	for _, f := range with {
		f(&opt)
	}
	go func() { p.exited <- Run(ctx, opt) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("daemon did not stop within 10s")
		}
	})
	p.await(t, "READY=1", 10*time.Second)
	return p
}

// await waits for a notify message that contains want.
func (p *inProcess) await(t testing.TB, want string, within time.Duration) string {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m := <-p.notes:
			if strings.Contains(m, want) {
				return m
			}
		case code := <-p.exited:
			t.Fatalf("daemon exited %d while waiting for %q", code, want)
		case <-deadline:
			t.Fatalf("no %q within %s", want, within)
		}
	}
}

// quiet is a configuration without schedules: only what the test does
// (and the watch) makes the daemon work.
func quiet(targets ...config.Target) *config.Config {
	return &config.Config{Scope: config.User, Daemon: config.Daemon{Watch: true}, Targets: targets}
}

func buildTarget(path string, maxSize int64, minAge time.Duration) config.Target {
	return config.Target{Name: "build", Kind: config.Build, Path: path, MaxSize: config.Size(maxSize),
		MinAge: config.Duration(minAge), Mode: "private"}
}

// TestAuditEnforcesLimits: a cache that is not watched (here: watch off;
// module caches always) and is over its limit is trimmed after the audit
// that measured it.
func TestAuditEnforcesLimits(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "build")
	testenv.BuildCache(t, cache, 200, 20000, 72*time.Hour)
	cfg := quiet(buildTarget(cache, 2<<20, time.Hour))
	cfg.Daemon.Watch = false
	d := runDaemon(t, cfg)
	d.await(t, "running clean of build (limit)", 20*time.Second)
	d.await(t, "STATUS=", 20*time.Second)
	var trim *journal.Event
	for _, e := range d.events.Snapshot() {
		if e.Type == journal.Trim {
			trim = &e
		}
	}
	if trim == nil || trim.Fields["GOMAINT_TRIGGER"] != "limit" {
		t.Fatalf("no limit trim after the audit: %+v", trim)
	}
	if after, _ := strconv.ParseInt(trim.Fields["GOMAINT_DISK_BYTES"], 10, 64); after > 2<<20 || after == 0 {
		t.Errorf("after the trim: %d bytes, limit %d", after, 2<<20)
	}
}

// TestListenRefusesOpenDirectory: the control socket is made, and made
// 0666, only in a directory no one else can write, where no one can swap
// it for a link that the chmod would follow.
func TestListenRefusesOpenDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := listen(filepath.Join(dir, "control.sock"))
	if err != nil {
		t.Fatalf("a private directory: %v", err)
	}
	l.Close()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if l, err := listen(filepath.Join(dir, "control.sock")); err == nil || !strings.Contains(err.Error(), "no one else can write") {
		if l != nil {
			l.Close()
		}
		t.Errorf("a world-writable directory: %v", err)
	}
}
