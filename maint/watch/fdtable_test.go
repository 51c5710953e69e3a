package watch

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// fdSize is the size of this process's fd table, from /proc.
func fdSize(t *testing.T) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "FDSize:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no FDSize in /proc/self/status")
	return 0
}

// TestHelperGrowFDTable prints the size of fd table a watch needs, and the
// table's size before and after growFDTable, in a fresh process (a table
// never shrinks).
func TestHelperGrowFDTable(t *testing.T) {
	if os.Getenv("GOMAINT_GROW_FD_TABLE") == "" {
		return // only as TestGrowFDTable's child
	}
	f, err := os.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	fd := int(f.Fd()) // the lowest free fd, where a watch's root's would be
	before := fdSize(t)
	growFDTable(fd, shardBudget()+1)
	f.Close()
	fmt.Println(fd+257, before, fdSize(t))
}

// TestGrowFDTable: one call makes the room for every shard's fd, so that
// Open grows the table once (one RCU grace period), not once per doubling.
func TestGrowFDTable(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGrowFDTable$")
	cmd.Env = append(os.Environ(), "GOMAINT_GROW_FD_TABLE=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var need, before, after int
	if _, err := fmt.Sscan(string(out), &need, &before, &after); err != nil {
		t.Fatalf("helper said %q: %v", out, err)
	}
	if before >= need {
		t.Fatalf("the helper's fd table held %d fds from the start, the %d a watch needs: nothing to test", before, need)
	}
	if after < need {
		t.Errorf("fd table of %d after growFDTable; want the %d a watch's root and 256 shards need", after, need)
	}
}
