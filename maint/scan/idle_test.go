package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/testenv"
)

// prioVisitor counts the entries it saw on idle and on other threads.
type prioVisitor struct {
	t          testing.TB
	idle, busy int
}

func (v *prioVisitor) Visit(d *Dir, e *Entry) Class {
	if testenv.IdleThread(v.t, unix.Gettid()) {
		v.idle++
	} else {
		v.busy++
	}
	return 0
}
func (v *prioVisitor) Report(*Dir, []byte, Problem, error) {}

// A walk under Idle reads on idle threads only, and leaves none behind,
// the caller's included: the daemon's other work keeps its priority.
func TestIdleWalkLowersItsWorkersOnly(t *testing.T) {
	dir := testenv.Dir(t)
	for i := range 200 {
		sub := filepath.Join(dir, fmt.Sprint("d", i%20))
		os.MkdirAll(sub, 0o755)
		os.WriteFile(filepath.Join(sub, fmt.Sprint("f", i)), nil, 0o644)
	}
	for _, gentle := range []bool{false, true} {
		ctx := context.Background()
		if gentle {
			ctx = Idle(ctx)
		}
		fd, root, err := OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := Walk(ctx, fd, root, Options{Workers: 4}, func() *prioVisitor { return &prioVisitor{t: t} })
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		var idle, busy int
		for _, v := range vs {
			idle, busy = idle+v.idle, busy+v.busy
		}
		if gentle && busy > 0 || !gentle && idle > 0 || idle+busy < 220 {
			t.Errorf("Idle %v: %d entries read at idle I/O priority, %d not", gentle, idle, busy)
		}
		if got := testenv.IdleThreadsLeft(t); len(got) > 0 {
			t.Errorf("Idle %v: threads %v still at idle I/O priority after the walk", gentle, got)
		}
	}
}
