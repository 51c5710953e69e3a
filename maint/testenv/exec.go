package testenv

import (
	"io"
	"os"
	"syscall"
	"testing"
)

// WriteExec writes an executable file at path from r. It holds
// syscall.ForkLock while the file is open for writing: a fork in another
// goroutine would otherwise inherit the write descriptor until its exec,
// and running the file in that window fails with "text file busy".
func WriteExec(t testing.TB, path string, r io.Reader) {
	t.Helper()
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}
