package daemon

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
)

// TestAcceptSurvivesEMFILE: a daemon (a subprocess, so that its fd limit
// is its own) runs out of file descriptors while connections pile up; once
// they are gone it answers again, and journals the condition once.
func TestAcceptSurvivesEMFILE(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "control.sock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDaemon$")
	cmd.Env = append(os.Environ(), "GOMAINT_DAEMON_HELPER="+dir)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(unix.SIGTERM); cmd.Wait() }()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "limited\n" {
		t.Fatalf("daemon helper: %q", line)
	}
	var mu sync.Mutex
	var events []string
	failing := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), ": control: ") {
				mu.Lock()
				events = append(events, sc.Text())
				mu.Unlock()
				select {
				case failing <- struct{}{}:
				default:
				}
			}
		}
	}()

	var conns []net.Conn
	for range 200 {
		c, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conns = append(conns, c)
	}
	select {
	case <-failing:
	case <-time.After(5 * time.Second):
		t.Log("no journal entry about accept failing within 5s")
	}
	for _, c := range conns {
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Ask(ctx, socket, Request{Command: "status"}); err != nil {
		t.Fatalf("after the fds came back: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	var failed int
	for _, e := range events {
		if strings.Contains(e, "warning") {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("journal entries about accept failing: %d, want 1: %q", failed, events)
	}
}

// TestHelperDaemon is TestAcceptSurvivesEMFILE's daemon: once ready it
// lowers its fd limit to what it has open plus a few, says "limited",
// and serves with events on stderr.
func TestHelperDaemon(t *testing.T) {
	dir := os.Getenv("GOMAINT_DAEMON_HELPER")
	if dir == "" {
		return
	}
	cfg := quiet()
	opt := Options{Scope: config.User, Environ: []string{"HOME=" + dir, "PATH=/usr/bin:/bin"}, Sink: &journal.Lines{W: os.Stderr},
		Load:     func() (*config.Config, error) { return cfg, nil },
		StateDir: filepath.Join(dir, "state"), SocketPath: filepath.Join(dir, "control.sock"), LockDir: filepath.Join(dir, "locks"),
		Notify: func(s string) {
			if strings.HasPrefix(s, "READY=1") && !strings.Contains(s, "RELOADING") {
				fds, _ := os.ReadDir("/proc/self/fd")
				lim := uint64(len(fds) + 16)
				if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: lim, Max: lim}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				fmt.Println("limited")
			}
		}}
	ctx, stop := signal.NotifyContext(context.Background(), unix.SIGTERM)
	defer stop()
	os.Exit(Run(ctx, opt))
}
