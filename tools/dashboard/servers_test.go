package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// server is a program the test started, killed when the test ends.
type server struct {
	name   string
	cmd    *exec.Cmd
	log    string // its standard output and error
	exited chan struct{}
}

// start runs name with args and env added to the test's environment;
// its output is logged if the test fails.
func start(t *testing.T, env []string, name string, args ...string) *server {
	t.Helper()
	s := &server{name: filepath.Base(name), cmd: exec.Command(name, args...), exited: make(chan struct{})}
	out, err := os.CreateTemp(t.TempDir(), s.name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child has its own copy
	s.log = out.Name()
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("%s output (last 4000 bytes):\n%s", s.name, tail(s.output(), 4000))
		}
	})
	return s
}

func (s *server) output() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// ready waits until url answers 200, or fails the test if the server
// exits or does not answer within a minute. It returns false if the
// server exited on a port someone else took, for the caller to try again.
func (s *server) ready(t *testing.T, url string) bool {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-s.exited:
			if strings.Contains(s.output(), "address already in use") {
				return false
			}
			t.Fatalf("%s exited before it was ready: %v\n%s", s.name, s.cmd.ProcessState, tail(s.output(), 4000))
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s within a minute", s.name, url)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort returns a TCP port on the loopback address that no one
// listens on now. A server started on it may still lose a race for it:
// listen retries with another port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// listen starts a server on a free loopback port and waits until path
// answers there; it returns the server's host:port.
func listen(t *testing.T, path string, run func(addr string) *server) string {
	t.Helper()
	for range 3 {
		addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
		if run(addr).ready(t, "http://"+addr+path) {
			return addr
		}
	}
	t.Fatalf("no free port after three tries")
	return ""
}

// nodeExporter starts Debian's prometheus-node-exporter with only the
// textfile collector, on dir, and returns its host:port.
func nodeExporter(t *testing.T, dir string) string {
	t.Helper()
	bin := testenv.Command(t, "prometheus-node-exporter")
	return listen(t, "/metrics", func(addr string) *server {
		return start(t, nil, bin, "--web.listen-address="+addr,
			"--collector.disable-defaults", "--collector.textfile", "--collector.textfile.directory="+dir)
	})
}

// prometheusServer starts Debian's prometheus scraping target every
// second and evaluating rules every second, with its own data directory
// under dir, and returns its API.
func prometheusServer(t *testing.T, dir, target, rules string) promAPI {
	t.Helper()
	bin := testenv.Command(t, "prometheus")
	cfg := filepath.Join(dir, "prometheus.yml")
	// JSON is YAML.
	conf := fmt.Sprintf(`{"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
"rule_files": [%q],
"scrape_configs": [{"job_name": "node", "static_configs": [{"targets": [%q]}]}]}`, rules, target)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := listen(t, "/-/ready", func(addr string) *server {
		return start(t, nil, bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr, "--log.level=warn")
	})
	return promAPI{base: "http://" + addr}
}
