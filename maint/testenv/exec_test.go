package testenv

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestWriteExecWhileForking: files written by WriteExec run at once while
// other goroutines fork all the time, as in-process daemons and parallel
// helpers do; none fails with "text file busy".
func TestWriteExecWhileForking(t *testing.T) {
	sh := Command(t, "sh")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				exec.Command(sh, "-c", ":").Run()
			}
		}()
	}
	defer wg.Wait()
	defer cancel()
	dir := t.TempDir()
	for i := range 300 {
		p := filepath.Join(dir, "x"+strconv.Itoa(i))
		WriteExec(t, p, strings.NewReader("#!"+sh+"\nexit 0\n"))
		if out, err := exec.Command(p).CombinedOutput(); err != nil {
			t.Fatalf("run %d of a file just written: %v %s", i, err, out)
		}
	}
}
