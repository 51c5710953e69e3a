package verify

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/safefs"
)

// sumdbDir holds the checksum databases' answers go fetched, one
// directory per database (GOSUMDB's name, e.g. sum.golang.org), as
// cmd/go's modfetch dbClient.WriteCache writes them.
const sumdbDir = "cache/download/sumdb"

// sumdbHosts lists the checksum databases go kept answers from, sorted.
// None is no error: with GOSUMDB=off, or for GOPRIVATE modules, go asks
// no database.
func sumdbHosts(root *safefs.Root) ([]string, error) {
	fd, err := root.OpenDir(sumdbDir)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", sumdbDir, err)
	}
	defer unix.Close(fd)
	var hosts []string
	err = root.EachEntry(fd, make([]byte, 4<<10), func(e *safefs.DirEntry) error {
		if e.Err == nil && e.Stat.Mode&unix.S_IFMT == unix.S_IFDIR {
			hosts = append(hosts, string(e.Name))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sumdbDir, err)
	}
	slices.Sort(hosts)
	return hosts, nil
}

// record is a version's lookup record: the checksum database's answer for
// it, which go fetched, checked against the database's signed tree and
// kept. gomaint does not check the signature again: the record is as
// trustworthy as the cache directory that holds it, but unlike the
// .ziphash it is not something go derived from the download itself.
type record struct {
	dir, name string       // its directory, relative to the cache root, and name
	st        unix.Statx_t // for the version's fingerprint
}

func (r *record) rel() string { return r.dir + "/" + r.name }

// findRecord locates v's record in the first database that has one; nil
// when none does. The name is the sumdb client's: lookup/<escaped
// path>@<escaped version>, escaped by golang.org/x/mod/module.
func findRecord(root *safefs.Root, hosts []string, v *version) (*record, error) {
	if len(hosts) == 0 {
		return nil, nil
	}
	epath, err := module.EscapePath(v.path)
	if err != nil {
		return nil, fmt.Errorf("record of %s: %w", v.module(), err)
	}
	evers, err := module.EscapeVersion(v.ver)
	if err != nil {
		return nil, fmt.Errorf("record of %s: %w", v.module(), err)
	}
	dir, name := path.Split(epath + "@" + evers)
	for _, h := range hosts {
		rel := path.Join(sumdbDir, h, "lookup", dir)
		fd, err := root.OpenDir(rel)
		if errors.Is(err, unix.ENOENT) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		st, err := root.Stat(fd, name)
		unix.Close(fd)
		if errors.Is(err, unix.ENOENT) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", rel, name, err)
		}
		return &record{dir: rel, name: name, st: st}, nil
	}
	return nil, nil
}

// sums reads the record's h1: hashes for v: of its files (zip) and of its
// go.mod (mod), "" for a line it does not have. errBadRecord: not a
// record tlog can parse.
func (r *record) sums(root *safefs.Root, v *version) (zip, mod string, err error) {
	dfd, err := root.OpenDir(r.dir)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", r.dir, err)
	}
	fd, err := root.OpenFile(dfd, r.name, unix.O_RDONLY)
	unix.Close(dfd)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", r.dir, err)
	}
	f := os.NewFile(uintptr(fd), r.name)
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10)) // a record is a few hundred bytes
	if err != nil {
		return "", "", fmt.Errorf("read %s: %w", r.rel(), err)
	}
	_, text, _, err := tlog.ParseRecord(data)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w: %v", r.rel(), errBadRecord, err)
	}
	for line := range strings.Lines(string(text)) {
		fs := strings.Fields(line)
		if len(fs) != 3 || fs[0] != v.path || !strings.HasPrefix(fs[2], "h1:") {
			continue
		}
		switch fs[1] {
		case v.ver:
			zip = fs[2]
		case v.ver + "/go.mod":
			mod = fs[2]
		}
	}
	return zip, mod, nil
}

// errBadRecord: a lookup record that does not parse.
var errBadRecord = errors.New("not a checksum database record")

// modSum is the h1: hash of v's .mod as go computes it for go.sum (the
// /go.mod line): dirhash.Hash1 over the one name "go.mod". A missing .mod
// is unix.ENOENT.
func modSum(root *safefs.Root, dlfd int, v *version) (string, error) {
	fd, err := root.OpenFile(dlfd, v.escVersion+".mod", unix.O_RDONLY)
	if err != nil {
		return "", err
	}
	f := os.NewFile(uintptr(fd), v.escVersion+".mod") // Hash1 closes it
	h, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) { return f, nil })
	if err != nil {
		return "", fmt.Errorf("hash %s.mod: %w", v.escVersion, err)
	}
	return h, nil
}
