// What every mode sets up: a work dir and a gomaint built from the repository.

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// newBench makes the work dir and builds gomaint into it, saying where
// both are. On error nothing is left behind.
func newBench(ctx context.Context, o *options) (*bench, error) {
	repo, err := findRepo(o.repo)
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, now: time.Now(), repo: repo}
	if b.work, b.ownWork, err = makeWorkDir(o.dir); err != nil {
		return nil, err
	}
	fmt.Printf("repo %s, work dir %s\n", repo, b.work)
	start := time.Now()
	if b.gomaint, err = buildGomaint(ctx, repo, filepath.Join(b.work, "bin")); err != nil {
		b.cleanup()
		return nil, err
	}
	fmt.Printf("built gomaint in %.1fs\n", time.Since(start).Seconds())
	return b, nil
}

// bench is one benchmark run: its work dir, tools and generated trees.
type bench struct {
	o                *options
	now              time.Time
	repo             string // the gomaint repository
	work             string
	ownWork          bool // work dir made by us, so removed whole
	gomaint, gdu     string
	coldSkip         string // why cold runs are skipped, if they are
	trees, mod, bld  string // trees holds mod and bld
	modT, bldT, bigT *tally
}

// cleanup removes every tree we generated, unless -keep.
func (b *bench) cleanup() {
	if b.work == "" {
		return
	}
	if b.o.keep {
		fmt.Println("kept", b.work)
		return
	}
	start := time.Now()
	if err := removeTree(b.work, b.o.workers, b.ownWork); err != nil {
		fmt.Fprintln(os.Stderr, "gomaint-bench: cleanup:", err)
		return
	}
	fmt.Printf("removed %s in %.1fs\n", b.work, time.Since(start).Seconds())
	b.work = ""
}

func setupErr(err error) int {
	fmt.Fprintln(os.Stderr, "gomaint-bench:", err)
	return exitSetup
}

const modulePath = "github.com/gomaint/gomaint"

// findRepo returns the root of the gomaint module at or above start.
func findRepo(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && moduleOf(data) == modulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s module at or above %s (use -repo)", modulePath, start)
		}
		dir = parent
	}
}

func moduleOf(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

func buildGomaint(ctx context.Context, repo, binDir string) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(binDir, "gomaint")
	// As packaging/build.sh builds it: the binary users run, static and
	// stripped, starts a millisecond or two sooner than a default build.
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/gomaint")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gomaint: %v\n%s", err, out)
	}
	return bin, nil
}

// makeWorkDir returns an empty work dir, and whether we made it (and so
// may remove it whole).
func makeWorkDir(dir string) (string, bool, error) {
	if dir == "" {
		d, err := os.MkdirTemp("/var/tmp", "gomaint-bench-")
		return d, true, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false, err
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return dir, true, os.MkdirAll(dir, 0o755)
	case err != nil:
		return "", false, err
	case len(entries) > 0:
		// Everything in the work dir gets removed at the end.
		return "", false, fmt.Errorf("-dir %s is not empty", dir)
	}
	return dir, false, nil
}
