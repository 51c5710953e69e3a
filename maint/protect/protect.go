// Package protect writes tmpfiles.d exclusions (`x` lines) for caches, so
// that no systemd-tmpfiles age rule cleans them. It owns one block of the
// file, between its Begin and End lines, and writes that block anew from
// the configuration every time; every line outside it is kept as it is.
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
	"unicode"

	"github.com/gomaint/gomaint/maint/safetext"
)

// Begin and End enclose the lines gomaint writes.
const (
	Begin = "# BEGIN gomaint protect"
	End   = "# END gomaint protect"
)

// header opens the block, for whoever opens the file.
const header = "# Written by `gomaint protect`: caches that systemd-tmpfiles must not clean.\n" +
	"# gomaint rewrites this block on every run; lines outside it are kept.\n"

// Marker preceded each line of the old format, which replaced only the
// line after it: a file that has one is migrated (see Render).
const Marker = "# gomaint protect: target "

// legacyHeader are the comment lines the old format opened the file with.
var legacyHeader = map[string]bool{
	"# Written by `gomaint protect`: caches that systemd-tmpfiles must not clean.":                true,
	"# gomaint rewrites only the lines after its \"" + strings.TrimSpace(Marker) + "\" comments.": true,
}

// Packaged is the tree the packaged tmpfiles.d drop-in already excludes.
const Packaged = "/var/cache/go"

// Exclusion is one cache to exclude.
type Exclusion struct{ Target, Path string }

// Line returns the tmpfiles.d line that excludes exactly path and what is
// below it. systemd-tmpfiles takes the path field out of its quotes (a
// backslash quoting the next character), then expands %-specifiers, and
// matches `x` paths as globs (fnmatch): so glob characters and backslashes
// get a backslash for fnmatch, % becomes %%, and `"` and `\` get a
// backslash for the quoting. Those two escapes read the same whether or not
// a systemd also undoes C escapes there, as tmpfiles.d(5) says it may.
// Other bytes, non-UTF-8 ones too, are read as they are. A control
// character cannot be written: a newline or carriage return would end the
// line, and systemd would run what follows as a line of its own.
func Line(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("path %s is not absolute: tmpfiles.d takes only absolute paths", safetext.Quote(path))
	}
	if i := strings.IndexFunc(path, unicode.IsControl); i >= 0 {
		return "", fmt.Errorf("path %s holds a control character (%s): no tmpfiles.d line can name it; rename the directory, or set the target's path to one without",
			safetext.Quote(path), safetext.Escape(string([]rune(path[i:])[0])))
	}
	var b strings.Builder
	b.WriteString(`x "`)
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch c {
		case '*', '?', '[', ']':
			b.WriteString(`\\`) // a backslash for fnmatch, itself escaped
		case '\\':
			b.WriteString(`\\\\`)
			continue
		case '%':
			b.WriteByte('%')
		case '"':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String(), nil
}

// Render returns existing with gomaint's block written anew from ex, where
// the old block was or else at the end; the lines around it stay.
//
// A file in the old format (a Marker before each x line) is migrated: the
// old version always appended its lines at the end, so from the first
// Marker on the file is gomaint's, and everything there is replaced. The
// lines of it that were not gomaint's x lines are returned as dropped: a
// path with a newline could inject lines there, which systemd-tmpfiles ran
// as root.
func Render(existing []byte, ex []Exclusion) (data []byte, dropped []string, err error) {
	var block strings.Builder
	block.WriteString(Begin + "\n" + header)
	for _, e := range ex {
		line, err := Line(e.Path)
		if err != nil {
			return nil, nil, fmt.Errorf("target %s: %w", safetext.Escape(e.Target), err)
		}
		fmt.Fprintf(&block, "# target %s\n%s\n", safetext.Escape(e.Target), line)
	}
	block.WriteString(End + "\n")

	var out bytes.Buffer
	placed, inBlock, legacy, afterMarker := false, false, false, false
	place := func() {
		if !placed {
			out.WriteString(block.String())
			placed = true
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(existing))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case legacy:
			if strings.HasPrefix(line, Marker) {
				afterMarker = true
				continue
			}
			own := afterMarker && strings.HasPrefix(strings.TrimSpace(line), "x ")
			if !own && strings.TrimSpace(line) != "" {
				dropped = append(dropped, line)
			}
			afterMarker = false
		case inBlock:
			inBlock = line != End
		case line == Begin:
			place()
			inBlock = true
		case strings.HasPrefix(line, Marker):
			place()
			legacy, afterMarker = true, true
		case legacyHeader[line]:
		default:
			out.WriteString(line + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	place()
	return out.Bytes(), dropped, nil
}

// Apply writes the exclusions into file. It reports whether the file
// changed, and the lines of an old-format file it dropped (see Render);
// with dryRun it only says so.
func Apply(file string, ex []Exclusion, dryRun bool) (changed bool, dropped []string, err error) {
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, nil, err
	}
	data, dropped, err := Render(old, ex)
	if err != nil {
		return false, nil, err
	}
	if bytes.Equal(old, data) {
		return false, dropped, nil
	}
	if dryRun {
		return true, dropped, nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return false, nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".gomaint-*.conf")
	if err != nil {
		return false, nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, nil, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return false, nil, err
	}
	if err := tmp.Close(); err != nil {
		return false, nil, err
	}
	return true, dropped, os.Rename(tmp.Name(), file)
}

// Needed reports whether a cache path needs its own exclusion: everything
// outside the packaged /var/cache/go does.
func Needed(path string) bool {
	return path != Packaged && !strings.HasPrefix(path, Packaged+"/")
}
