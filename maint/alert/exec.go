package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/gomaint/gomaint/maint/safetext"
)

// tailMax is how much of a hook's output is kept, from its end, where a
// failing command says why; everything else is read and dropped, so a hook
// that writes without end never blocks on a full pipe.
const tailMax = 512

// runHook runs an exec route's command: the alert as gomaint's JSON on its
// standard input, a few GOMAINT_* variables and a fixed PATH as its whole
// environment, in its own process group, which is killed when the route's
// timeout passes. Exit status 0 is delivered.
func runHook(ctx context.Context, r *Route, a *Alert) Attempt {
	body, err := json.Marshal(a)
	if err != nil {
		return Attempt{Err: err, ExitStatus: -1, Permanent: true}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout(r))
	defer cancel()
	cmd := exec.CommandContext(ctx, r.Exec[0], r.Exec[1:]...)
	cmd.Dir = "/"
	cmd.Env = hookEnv(r, a)
	cmd.Stdin = bytes.NewReader(body)
	var out tail
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The hook's children go with it: the whole group is killed.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A child that left the group and holds the output pipes open must not
	// hold the attempt: Wait gives up on the pipes this long after.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	at := Attempt{ExitStatus: cmd.ProcessState.ExitCode()} // -1: killed, or not started
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay) && at.ExitStatus == 0:
		// Delivered; a child it left behind holding the pipes is not its failure.
	case ctx.Err() != nil:
		at.Err, at.Unanswered = fmt.Errorf("%s did not finish within %s: killed", r.Exec[0], timeout(r)), true
	default:
		at.Err = fmt.Errorf("%s: %w%s", r.Exec[0], err, excerpt(out.bytes()))
	}
	return at
}

// hookEnv is the hook's whole environment: nothing of gomaint's own (which
// may hold a credential directory), values escaped so that none carries a
// control character (or a NUL, which exec refuses); the exact values are
// in the JSON on stdin.
func hookEnv(r *Route, a *Alert) []string {
	env := []string{"PATH=/usr/bin:/bin"}
	for _, kv := range [][2]string{{"ALERT_ID", a.ID}, {"STATUS", a.Status}, {"CODE", a.Code}, {"SEVERITY", a.Severity},
		{"TARGET", a.Target}, {"PATH", a.Path}, {"ROUTE", r.Name}} {
		env = append(env, "GOMAINT_"+kv[0]+"="+safetext.Escape(kv[1]))
	}
	return env
}

// tail keeps the last tailMax bytes written to it, and never fails a write.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p[max(0, len(p)-tailMax):]...)
	t.buf = t.buf[max(0, len(t.buf)-tailMax):]
	return len(p), nil
}

func (t *tail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf)
}
