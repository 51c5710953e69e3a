package buildfail

import (
	"bytes"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// Each Write reaches the destination at once and unchanged: a partial
// line before its newline, binary bytes, carriage returns.
func TestWritePassesThrough(t *testing.T) {
	var dst bytes.Buffer
	s := scannerWith(&dst, Env{GOCACHE: "/c"})
	var all []byte
	for _, p := range []string{"go: downloading x", " v1\r\n# pkg\n", "\x00\xff\x1b[2J", "mkdir /c/00: permission ", "denied"} {
		n, err := s.Write([]byte(p))
		if n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
		all = append(all, p...)
		if !bytes.Equal(dst.Bytes(), all) {
			t.Fatalf("after Write(%q) the destination holds %q, want %q", p, dst.Bytes(), all)
		}
	}
	if fs := s.Failures(); len(fs) != 0 {
		t.Errorf("a line without its newline was read before Close: %+v", fs)
	}
	s.Close()
	if fs := s.Failures(); len(fs) != 1 || fs[0].Reason != CachePermission || fs[0].Line != "\x00\xff\x1b[2Jmkdir /c/00: permission denied" {
		t.Errorf("the last line, flushed by Close: %+v", fs)
	}
	if !bytes.Equal(dst.Bytes(), all) {
		t.Errorf("Close wrote to the destination")
	}
}

// A failing destination's error is the caller's; the scanner reads on.
func TestWriteDestinationError(t *testing.T) {
	s := scannerWith(failing{}, Env{GOROOT: "/g"})
	if n, err := s.Write([]byte("go: cannot find GOROOT directory: /g\n")); n != 0 || err != io.ErrClosedPipe {
		t.Errorf("Write = %d, %v; want the destination's 0, %v", n, err, io.ErrClosedPipe)
	}
	if fs := s.Failures(); len(fs) != 1 || fs[0].Reason != GOROOT {
		t.Errorf("failures %+v", fs)
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// A line of 64 MiB and 16 MiB of binary noise cost the scanner a few KiB:
// it keeps MaxLine bytes of a line and one failure per reason. A match
// past MaxLine is not seen; the next line is read as usual.
func TestBoundedMemory(t *testing.T) {
	s := scannerWith(io.Discard, Env{GOCACHE: "/c"})
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	noise := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.UintN(256))
	}
	noise = bytes.ReplaceAll(noise, []byte{'\n'}, []byte{'.'})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 1024 {
		s.Write(chunk)
	}
	s.Write([]byte(" open /c/00/x-d: no such file or directory\n"))
	for range 256 {
		s.Write(noise)
	}
	s.Write([]byte("\nmkdir /c/01: permission denied\n"))
	for range 1000 {
		s.Write([]byte("mkdir /c/02: permission denied\n"))
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("80 MiB of output allocated %d bytes", grew)
	}
	fs := s.Failures()
	if len(fs) != 1 || fs[0].Reason != CachePermission || fs[0].Line != "mkdir /c/01: permission denied" {
		t.Errorf("failures %+v; want only the first permission line", fs)
	}
}

// Lines that name no cache path, or a path beside one, are no cache
// failure: a test's own "permission denied", a network error of a test,
// a path that only starts like the cache's.
func TestNotCacheFailures(t *testing.T) {
	env := Env{GOCACHE: "/home/u/.cache/go-build", GOMODCACHE: "/home/u/go/pkg/mod", GOROOT: "/usr/local/go", TempDir: "/tmp", Dir: "/home/u/src"}
	for _, line := range []string{
		"    x_test.go:12: open /etc/shadow: permission denied",
		"    db_test.go:9: dial tcp 127.0.0.1:5432: connect: connection refused",
		"mkdir /home/u/.cache/go-build-old/00: permission denied",
		"open /home/u/go/pkg/module: no such file or directory",
		"write /var/lib/out: no space left on device",
		"main.go:3:8: package fmtt is not in std (/usr/local/go/src/fmtt)",
		"go: downloading github.com/google/uuid v1.6.0",
	} {
		s := scannerWith(io.Discard, env)
		s.Write([]byte(line + "\n"))
		if fs := s.Failures(); len(fs) != 0 {
			t.Errorf("%q: %+v", line, fs)
		}
	}
}

// Several reasons in one run: each once, in the order they showed, the
// first line of each kept.
func TestOnePerReason(t *testing.T) {
	s := scannerWith(io.Discard, Env{GOCACHE: "/home/u/.cache/go-build", GOMODCACHE: "/m", Dir: "/home/u/src"})
	s.Write([]byte(strings.Join([]string{
		"main.go:6:2: module lookup disabled by GOPROXY=off",
		"x: could not import fmt (open ../.cache/go-build/00/a-d: no such file or directory)",
		"main.go:7:2: module lookup disabled by GOPROXY=off",
		"go: writing go.mod cache: mkdir /m/cache: permission denied",
		"x: could not import os (open /home/u/.cache/go-build/01/b-d: no such file or directory)",
	}, "\n") + "\n"))
	var got []string
	for _, f := range s.Failures() {
		got = append(got, f.Reason+": "+f.Line)
	}
	want := []string{
		"module_download: main.go:6:2: module lookup disabled by GOPROXY=off",
		"cache_vanished: x: could not import fmt (open ../.cache/go-build/00/a-d: no such file or directory)",
		"cache_permission: go: writing go.mod cache: mkdir /m/cache: permission denied",
	}
	if !slices.Equal(got, want) {
		t.Errorf("failures\n%q\nwant\n%q", got, want)
	}
}

func TestReasons(t *testing.T) {
	two := []Failure{{Reason: DiskFull}, {Reason: CacheVanished}}
	for _, c := range []struct {
		failed bool
		fs     []Failure
		want   []string
	}{
		{false, nil, nil},
		{false, two, nil},
		{true, nil, []string{Other}},
		{true, two, []string{DiskFull, CacheVanished}},
	} {
		if got := Reasons(c.failed, c.fs); !slices.Equal(got, c.want) {
			t.Errorf("Reasons(%v, %v) = %q, want %q", c.failed, c.fs, got, c.want)
		}
	}
	if len(All()) != 7 || All()[6] != Other {
		t.Errorf("All() = %q", All())
	}
}

// scannerWith is a Scanner that knows env from the start.
func scannerWith(dst io.Writer, env Env) *Scanner {
	s := NewScanner(dst)
	s.SetEnv(env)
	return s
}

// Lines that end before the scanner knows the command's env (go env
// answers after the command started) are read when it learns it, up to
// maxPending of them; output passes at once all the same.
func TestLinesWaitForEnv(t *testing.T) {
	var dst bytes.Buffer
	s := NewScanner(&dst)
	s.Write([]byte("mkdir /c/00: permission denied\n"))
	if dst.String() != "mkdir /c/00: permission denied\n" {
		t.Fatalf("the line waited to pass: %q", dst.String())
	}
	if fs := s.Failures(); len(fs) != 0 {
		t.Fatalf("read without an env: %+v", fs)
	}
	s.SetEnv(Env{GOCACHE: "/c"})
	if fs := s.Failures(); len(fs) != 1 || fs[0].Reason != CachePermission {
		t.Errorf("the waiting line, read once the env is known: %+v", fs)
	}

	s = NewScanner(io.Discard)
	for range maxPending {
		s.Write([]byte("# pkg\n"))
	}
	s.Write([]byte("go: cannot find GOROOT directory: /g\n"))
	s.SetEnv(Env{GOROOT: "/g"})
	if fs := s.Failures(); len(fs) != 0 {
		t.Errorf("a line past maxPending was kept: %+v", fs)
	}
}
