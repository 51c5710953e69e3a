package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/testenv"
)

// Real unprivileged users against the control socket: gmt-sd-ctl is a
// member of the group of the daemon's one target, gmt-sd-out of none.
const ctlGroup = "gmt-sd-grp"

// socketDaemon runs a daemon with one shared target of group grp and a
// socket that every test user can reach.
func socketDaemon(t *testing.T, targets ...config.Target) *inProcess {
	t.Helper()
	cfg := quiet(targets...)
	cfg.Daemon.Watch = false
	d := runDaemon(t, cfg)
	// runDaemon's directories are the test's own (0700): give the users
	// a way in, as /run/gomaint (0755) does.
	for dir := filepath.Dir(d.socket); dir != "/"; dir = filepath.Dir(dir) {
		if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(dir, fi.Mode().Perm()|0o011)
		}
	}
	return d
}

func sharedTarget(t *testing.T, name, group string) config.Target {
	cache := filepath.Join(testenv.Dir(t), name)
	if err := os.Mkdir(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	tgt := buildTarget(cache, 0, time.Hour)
	tgt.Name, tgt.Mode, tgt.Group = name, "shared", group
	return tgt
}

// client runs the control client helper as a, with args; it returns the
// helper's lines of output.
func client(t *testing.T, a *testenv.Account, self, socket string, args ...string) []string {
	t.Helper()
	lines, err := runClient(a, self, socket, args...)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// runClient is client for goroutines other than the test's, which may not
// call t.Fatal.
func runClient(a *testenv.Account, self, socket string, args ...string) ([]string, error) {
	cmd := a.Cmd([]string{"GOMAINT_CONTROL_CLIENT=" + strings.Join(append([]string{socket}, args...), "\x1f")}, self, "-test.run=^TestHelperControlClient$")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("control client %v as %s: %w\n%s", args, a.Name, err, out)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n"), nil
}

// TestControlPeerFirst: the daemon tells a user who may not ask so before
// it reads a byte, and does not wait for a request from them.
func TestControlPeerFirst(t *testing.T) {
	out := testenv.NewAccount(t, "gmt-sd-out")
	d := socketDaemon(t, sharedTarget(t, "build", ctlGroup))
	testenv.NewAccount(t, "gmt-sd-ctl", ctlGroup)
	got := client(t, out, testenv.Self(t), d.socket, "silent")
	if !strings.Contains(got[0], "permission denied") {
		t.Errorf("a user in no target's group, sending nothing: %q; want permission denied at once", got)
	}
}

// TestControlRequestSize: four members stream a request of 64 MiB each;
// the daemon reads a few KiB of each, answers that the request is too
// large and hangs up, and its peak RSS stays flat.
func TestControlRequestSize(t *testing.T) {
	ctl := testenv.NewAccount(t, "gmt-sd-ctl", ctlGroup)
	d := socketDaemon(t, sharedTarget(t, "build", ctlGroup))
	self := testenv.Self(t)
	before := peakRSS(t, true)
	var wg sync.WaitGroup
	results := make([][]string, 4)
	errs := make([]error, len(results))
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = runClient(ctl, self, d.socket, "stream", strconv.Itoa(64<<20))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	grown := peakRSS(t, false) - before
	t.Logf("peak RSS grew by %d KiB while 4 clients streamed 64 MiB each; clients: %q", grown>>10, results)
	if grown > 32<<20 {
		t.Errorf("peak RSS grew by %d MiB", grown>>20)
	}
	for _, r := range results {
		sent, _ := strconv.ParseInt(r[0], 10, 64)
		if sent >= 64<<20 || !strings.Contains(strings.Join(r, " "), "request larger than") {
			t.Errorf("client sent %d bytes and read %q; want it cut off with a 'request larger than' answer", sent, r[1:])
		}
	}
}

// TestControlConnectionCaps: a member holding 12 idle connections gets
// only maxConnsPerUID of them kept; root is still answered meanwhile.
func TestControlConnectionCaps(t *testing.T) {
	ctl := testenv.NewAccount(t, "gmt-sd-ctl", ctlGroup)
	d := socketDaemon(t, sharedTarget(t, "build", ctlGroup))
	cmd := ctl.Cmd([]string{"GOMAINT_CONTROL_CLIENT=" + d.socket + "\x1fhold\x1f12"}, testenv.Self(t), "-test.run=^TestHelperControlClient$")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	got, _ := bufio.NewReader(stdout).ReadString('\n')
	if want := fmt.Sprintf("refused %d\n", 12-maxConnsPerUID); got != want {
		t.Errorf("12 idle connections of one user: %q; want %q", got, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := Ask(ctx, d.socket, Request{Command: "status"}); err != nil {
		t.Errorf("root, while a member holds connections: %v", err)
	}
}

// peakRSS is this process's VmHWM in bytes; reset starts it anew.
func peakRSS(t *testing.T, reset bool) int64 {
	t.Helper()
	if reset {
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestHelperControlClient is the users' side of the tests above, run as
// them by client: socket, then one of
//
//	silent        connect, send nothing, print the first line of the answer
//	stream N      send up to N bytes of one JSON string; print bytes sent, then the answer
//	hold N        open N connections, send nothing; print "refused K", those the daemon closed
//	ask REQ       send REQ, print the answer
//
// or, with the state directory instead of the socket, "load": print the
// saved status LoadStatus gives this user, or "error: ...".
func TestHelperControlClient(t *testing.T) {
	spec := os.Getenv("GOMAINT_CONTROL_CLIENT")
	if spec == "" {
		return
	}
	args := strings.Split(spec, "\x1f")
	socket, mode := args[0], args[1]
	dial := func() net.Conn {
		c, err := net.Dial("unix", socket)
		if err != nil {
			fmt.Println("dial:", err)
			os.Exit(1)
		}
		return c
	}
	answer := func(c net.Conn, within time.Duration) string {
		c.SetReadDeadline(time.Now().Add(within))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil && line == "" {
			return "no answer: " + err.Error()
		}
		return strings.TrimSpace(line)
	}
	switch mode {
	case "load":
		st, err := LoadStatus(socket)
		if err != nil {
			fmt.Println("error:", err)
		} else {
			json.NewEncoder(os.Stdout).Encode(st)
		}
	case "ask":
		c := dial()
		c.Write([]byte(args[2] + "\n"))
		fmt.Println(answer(c, 60*time.Second))
	case "silent":
		fmt.Println(answer(dial(), 5*time.Second))
	case "stream":
		n, _ := strconv.Atoi(args[2])
		c := dial()
		chunk := []byte(strings.Repeat("a", 64<<10))
		sent, _ := c.Write([]byte(`{"command":"`))
		for sent < n {
			c.SetWriteDeadline(time.Now().Add(15 * time.Second))
			k, err := c.Write(chunk)
			sent += k
			if err != nil {
				break
			}
		}
		fmt.Println(sent)
		fmt.Println(answer(c, 10*time.Second))
	case "hold":
		n, _ := strconv.Atoi(args[2])
		conns := make([]net.Conn, n)
		for i := range conns {
			conns[i] = dial()
		}
		var refused atomic.Int32
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var resp Response
				// Long enough for a loaded machine to accept all of them.
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if err := json.NewDecoder(c).Decode(&resp); err == nil && strings.Contains(resp.Error, "too many connections") {
					refused.Add(1)
				}
			}()
		}
		wg.Wait()
		fmt.Println("refused", refused.Load())
		os.Stdin.Read(make([]byte, 1)) // hold the others until the test is done
	}
	os.Exit(0)
}

// TestGateCaps: the overall cap holds across uids, the per-uid cap per
// uid, and a connection that ends makes room again.
func TestGateCaps(t *testing.T) {
	var g gate
	admitted := 0
	for uid := uint32(1000); uid < 1000+2*maxConns/maxConnsPerUID; uid++ {
		for range maxConnsPerUID + 1 {
			if g.enter(uid) {
				admitted++
			}
		}
	}
	if admitted != maxConns {
		t.Errorf("admitted %d connections of many uids; want the overall cap %d", admitted, maxConns)
	}
	g.leave(1000)
	if g.enter(1001) {
		t.Error("uid 1001 got a connection beyond its cap after uid 1000 left")
	}
	if !g.enter(1000) {
		t.Error("uid 1000 could not reconnect after one of its connections ended")
	}
}
