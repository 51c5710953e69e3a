// Package protect writes tmpfiles.d exclusions (`x` lines) for caches, so
// that no systemd-tmpfiles age rule cleans them. It owns only the lines it
// writes: each follows a marker comment, and every other line of the file
// is kept as it is.
package protect

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Marker precedes every line gomaint writes.
const Marker = "# gomaint protect: target "

// SystemFile and UserFile are where exclusions go.
const SystemFile = "/etc/tmpfiles.d/gomaint-local.conf"

// UserFile is $XDG_CONFIG_HOME/user-tmpfiles.d/gomaint.conf, else under ~/.config.
func UserFile(getenv func(string) string) string {
	if x := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "user-tmpfiles.d", "gomaint.conf")
	}
	return filepath.Join(getenv("HOME"), ".config", "user-tmpfiles.d", "gomaint.conf")
}

// Packaged is the tree the packaged tmpfiles.d drop-in already excludes.
const Packaged = "/var/cache/go"

// Exclusion is one cache to exclude.
type Exclusion struct{ Target, Path string }

// Render returns existing with gomaint's lines replaced by one marker and
// one x line per exclusion; other lines stay in place.
func Render(existing []byte, ex []Exclusion) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(existing))
	skipNext := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, Marker):
			skipNext = true
			continue
		case skipNext:
			skipNext = false
			if strings.HasPrefix(strings.TrimSpace(line), "x ") {
				continue
			}
		}
		out.WriteString(line + "\n")
	}
	if out.Len() == 0 {
		out.WriteString("# Written by `gomaint protect`: caches that systemd-tmpfiles must not clean.\n" +
			"# gomaint rewrites only the lines after its \"" + strings.TrimSpace(Marker) + "\" comments.\n")
	}
	for _, e := range ex {
		fmt.Fprintf(&out, "%s%s\nx %s\n", Marker, e.Target, e.Path)
	}
	return out.Bytes()
}

// Apply writes the exclusions into file. It reports whether the file
// changed; with dryRun it only says so.
func Apply(file string, ex []Exclusion, dryRun bool) (changed bool, err error) {
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	data := Render(old, ex)
	if bytes.Equal(old, data) {
		return false, nil
	}
	if dryRun {
		return true, nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".gomaint-*.conf")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	return true, os.Rename(tmp.Name(), file)
}

// Needed reports whether a cache path needs its own exclusion: everything
// outside the packaged /var/cache/go does.
func Needed(path string) bool {
	return path != Packaged && !strings.HasPrefix(path, Packaged+"/")
}
