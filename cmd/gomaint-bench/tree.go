// Trees on disk: counted, measured and removed.

package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// discardMount returns the mount point holding dir if it is mounted with
// the discard option, else "".
func discardMount(dir string) string {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return ""
	}
	best, opts := "", ""
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		mnt := f[1]
		if (dir == mnt || strings.HasPrefix(dir, strings.TrimSuffix(mnt, "/")+"/")) && len(mnt) >= len(best) {
			best, opts = mnt, f[3]
		}
	}
	if slices.Contains(strings.Split(opts, ","), "discard") {
		return best
	}
	return ""
}

// countFiles counts the regular files under dir; a missing dir has none.
func countFiles(dir string) (int64, error) {
	n, _, err := regularFiles(dir, nil)
	return n, err
}

// regularFiles counts the regular files under dir for which keep (nil:
// all) is true of their path relative to dir, and adds up their sizes. It
// follows no link, as find does not; a missing dir has none.
func regularFiles(dir string, keep func(rel string) bool) (n, size int64, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if keep != nil {
			if rel, _ := filepath.Rel(dir, p); !keep(rel) {
				return nil
			}
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n, size = n+1, size+fi.Size()
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return n, size, nil
	}
	return n, size, err
}

// diskUsage adds up the blocks of everything under dir.
func diskUsage(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		}
		return nil
	})
	return n, err
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
