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
	"sync"
)

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
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", bin, "./cmd/gomaint")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gomaint: %v\n%s", err, out)
	}
	return bin, nil
}

const dropCaches = "/proc/sys/vm/drop_caches"

// coldBlocker says why the page cache cannot be dropped here, or "".
func coldBlocker() string {
	if os.Geteuid() != 0 {
		return "not running as root, and dropping the page cache needs root (run with sudo for cold runs)"
	}
	f, err := os.OpenFile(dropCaches, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Sprintf("cannot drop the page cache: %v", err)
	}
	f.Close()
	return ""
}

// ensureGdu finds gdu, installing it with apt-get when we are root.
func ensureGdu(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("gdu"); err == nil {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("gdu is not on PATH; install it (Debian/Ubuntu: sudo apt-get install gdu) and run again")
	}
	fmt.Println("gdu is not on PATH: installing it with apt-get")
	if err := apt(ctx, "install", "-y", "gdu"); err != nil {
		// A fresh system may have no package lists yet.
		if err := apt(ctx, "update"); err != nil {
			return "", err
		}
		if err := apt(ctx, "install", "-y", "gdu"); err != nil {
			return "", err
		}
	}
	return exec.LookPath("gdu")
}

func apt(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
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

type target struct{ name, kind, path string }

func writeConfig(file string, targets ...target) error {
	var b strings.Builder
	for _, t := range targets {
		fmt.Fprintf(&b, "[[target]]\nname = %q\nkind = %q\npath = %q\n\n", t.name, t.kind, t.path)
	}
	return os.WriteFile(file, []byte(b.String()), 0o644)
}

// removeTree deletes everything in dir, and dir itself if whole, with up to
// workers goroutines. Extracted module versions are read-only, so each
// directory is made writable before it is emptied, as go clean -modcache does.
func removeTree(dir string, workers int, whole bool) error {
	sem := make(chan struct{}, workers)
	var rm func(d string, self bool) error
	rm = func(d string, self bool) error {
		if self {
			if err := os.Chmod(d, 0o755); err != nil {
				return err
			}
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			first error
		)
		note := func(err error) {
			mu.Lock()
			if first == nil {
				first = err
			}
			mu.Unlock()
		}
		for _, e := range entries {
			p := filepath.Join(d, e.Name())
			if !e.IsDir() {
				if err := os.Remove(p); err != nil {
					note(err)
				}
				continue
			}
			select {
			case sem <- struct{}{}:
				wg.Go(func() {
					defer func() { <-sem }()
					if err := rm(p, true); err != nil {
						note(err)
					}
				})
			default: // every worker busy: do it here
				if err := rm(p, true); err != nil {
					note(err)
				}
			}
		}
		wg.Wait()
		if first != nil || !self {
			return first
		}
		return os.Remove(d)
	}
	return rm(dir, whole)
}
