package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/daemon"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestServeStopsDuringVerify: SIGTERM while the daemon verifies a module
// cache large enough to take seconds (golang.org/x/text, 30 MB) stops the
// verification between two files: the daemon exits 0 within 5 s,
// journals the run as interrupted and leaves a valid verify.json that
// keeps what did verify. The daemon started again completes the next
// run, hashing only what that state does not hold.
func TestServeStopsDuringVerify(t *testing.T) {
	n := newNotifySocket(t)
	cache := filepath.Join(testenv.Dir(t), "gomodcache")
	testenv.ModDownload(t, cache, nil, testenv.ModXMod, testenv.ModToml, "golang.org/x/text@v0.44.0")
	cfg := writeConfig(t, fmt.Sprintf("[[target]]\nname = \"mod\"\nkind = \"mod\"\npath = %q\n", cache))
	env := serveEnv(t, n)
	var runtimeDir, stateDir string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "XDG_RUNTIME_DIR="); ok {
			runtimeDir = v
		} else if v, ok := strings.CutPrefix(kv, "XDG_STATE_HOME="); ok {
			stateDir = filepath.Join(v, "gomaint")
		}
	}
	socket := filepath.Join(runtimeDir, "gomaint", "control.sock")
	ask := func(command string) chan error {
		done := make(chan error, 1)
		go func() {
			_, err := daemon.Ask(context.Background(), socket, daemon.Request{Command: command})
			done <- err
		}()
		return done
	}

	d := startServe(t, env, "--config", cfg)
	n.until(t, "READY=1", 10*time.Second)
	ask("verify-full")
	n.until(t, "running verify-full of all targets (control)", 30*time.Second)
	time.Sleep(time.Second) // into x/text
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM during a verification", code)
	}
	if !strings.Contains(d.stderr.String(), "verify: module cache "+cache+": interrupted") {
		t.Fatalf("the verification ran to its end before SIGTERM, or was not journaled as interrupted:\n%s", d.stderr.String())
	}
	kept := len(testenv.Remembered(t, stateDir, cache))
	t.Logf("%d of 3 versions verified before the stop", kept)

	again := startServe(t, env, "--config", cfg)
	n.until(t, "READY=1", 10*time.Second)
	if err := <-ask("verify"); err != nil {
		t.Fatal(err)
	}
	again.logged("verify: module cache", 1, 5*time.Second) // through a pipe: it may trail the answer
	want := map[string]int{"VERSIONS": 3, "UNCHANGED": kept, "HASHED": 3 - kept, "FINDINGS": 0}
	line := regexp.MustCompile(`verify: module cache .*`).FindString(again.stderr.String())
	for field, v := range want {
		if !strings.Contains(line, fmt.Sprintf(`%s="%d"`, field, v)) {
			t.Errorf("the run after the restart: want %s=%d: %s", field, v, line)
		}
	}
	if got := len(testenv.Remembered(t, stateDir, cache)); got != 3 {
		t.Errorf("%d versions remembered after the run completed, want 3", got)
	}
}
