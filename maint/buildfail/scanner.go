package buildfail

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// MaxLine is how much of one line the scanner keeps for matching: go's
// messages fit many times over, and a longer line (a test's dump, binary
// output) costs no more.
const MaxLine = 4 << 10

// Env is where the command's go finds its caches and toolchain: absolute
// paths, as `go env` of the run gives them. An empty field matches nothing.
type Env struct {
	GOCACHE, GOMODCACHE, GOROOT string
	// TempDir is go's temporary directory: GOTMPDIR, else $TMPDIR, else /tmp.
	TempDir string
	// Dir is the command's working directory, against which go shortens
	// the paths it prints; "" is this process's.
	Dir string
}

// Scanner passes a command's output to its destination and reads a copy
// for the failures go prints. It is safe for use by several goroutines.
type Scanner struct {
	dst io.Writer

	mu       sync.Mutex
	env      Env
	envSet   bool
	pending  []string // lines ended before SetEnv, at most maxPending
	line     []byte   // the current line, at most MaxLine bytes
	skipping bool     // the current line is longer than MaxLine
	found    []Failure
	suspect  string // the first line that may hide an index write go swallowed
	resolved bool
}

// maxPending is how many lines wait for SetEnv: go env answers within
// milliseconds of the command's start, when go has printed a few lines
// at most.
const maxPending = 128

// NewScanner returns a Scanner writing to dst. It reads the lines once it
// knows the command's env (SetEnv), which `gomaint run` learns from go env
// while the command starts.
func NewScanner(dst io.Writer) *Scanner {
	return &Scanner{dst: dst, line: make([]byte, 0, MaxLine)}
}

// SetEnv tells the scanner where the command's go finds its caches and
// toolchain, and reads the lines that waited for it. Call it before
// Close.
func (s *Scanner) SetEnv(env Env) {
	if env.Dir == "" {
		env.Dir, _ = os.Getwd()
	}
	for _, p := range []*string{&env.GOCACHE, &env.GOMODCACHE, &env.GOROOT, &env.TempDir, &env.Dir} {
		if *p != "" {
			*p = filepath.Clean(*p)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.env, s.envSet = env, true
	for _, line := range s.pending {
		s.read(line)
	}
	s.pending = nil
}

// Write writes p to the destination, then reads the copy. It returns what
// the destination returned: the scanner never fails a write of its own.
func (s *Scanner) Write(p []byte) (int, error) {
	n, err := s.dst.Write(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !s.skipping {
			room := MaxLine - len(s.line)
			if len(chunk) > room {
				chunk, s.skipping = chunk[:room], true
			}
			s.line = append(s.line, chunk...)
		}
		if i < 0 {
			break
		}
		s.endLine()
		p = p[i+1:]
	}
	return n, err
}

// Close reads a last line that had no newline, after SetEnv. It does not
// close the destination.
func (s *Scanner) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.line) > 0 {
		s.endLine()
	}
	return nil
}

func (s *Scanner) endLine() {
	line := string(bytes.TrimSuffix(s.line, []byte{'\r'}))
	s.line, s.skipping = s.line[:0], false
	switch {
	case s.envSet:
		s.read(line)
	case len(s.pending) < maxPending:
		s.pending = append(s.pending, line)
	}
}

func (s *Scanner) read(line string) {
	if f, ok := match(line, &s.env); ok {
		s.add(f)
	} else if s.suspect == "" && indexSuspect(line, &s.env) {
		s.suspect = line
	}
}

// add keeps f unless its reason was already seen.
func (s *Scanner) add(f Failure) {
	for _, g := range s.found {
		if g.Reason == f.Reason {
			return
		}
	}
	s.found = append(s.found, f)
}

// Failures returns why the command failed, one Failure per reason, in the
// order the reasons first showed. Call it after the command ended (and
// Close): it then also looks at GOROOT and GOCACHE for what go hid.
func (s *Scanner) Failures() []Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.resolved && s.suspect != "" {
		if f, ok := hidden(s.suspect, &s.env); ok {
			s.add(f)
		}
	}
	s.resolved = true
	return append([]Failure(nil), s.found...)
}
