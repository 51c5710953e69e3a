package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
	"golang.org/x/sys/unix"
)

// Entry is one alert on its way to one route: a file in the spool.
type Entry struct {
	Route string `json:"route"`
	Alert Alert  `json:"alert"`
	// Spooled is when the entry was made; the route's retry_for counts from
	// it. Next is the earliest time of the next attempt (zero: now).
	Spooled  time.Time `json:"spooled"`
	Next     time.Time `json:"next,omitzero"`
	Attempts int       `json:"attempts"`
	// LastError is the last attempt's failure, for `gomaint alert list`.
	LastError string `json:"last_error,omitempty"`
}

// suffix marks spool files; others in the directory (the temporary files
// of an atomic write, the sender's counts) are not alerts.
const suffix = ".alert"

// maxEntry bounds what is read of a spool file: the spool's directory may
// be writable by the sender's user, whose files are not trusted to be small.
const maxEntry = 1 << 20

func (e *Entry) fileName() string { return e.Alert.ID + "." + e.Route + suffix }

// Spool is the directory alerts wait in for delivery.
type Spool struct{ Dir string }

// Make creates the spool directory (0700) when it is missing. The packaged
// one is made by tmpfiles.d, 2770 root:gomaint-alert, so that the sender's
// unprivileged user can read and remove what the root daemon writes.
func (s Spool) Make() error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("alert spool: %w", err)
	}
	return nil
}

// Put writes e atomically, readable by the spool directory's group.
func (s Spool) Put(e *Entry) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	// The group is the directory's as opened without following a link,
	// as WriteAtomicGroup opens it; never a link target's.
	dfd, err := scan.OpenDir(s.Dir)
	if err != nil {
		return fmt.Errorf("alert spool: %w", err)
	}
	var st unix.Stat_t
	err = unix.Fstat(dfd, &st)
	unix.Close(dfd)
	if err != nil {
		return fmt.Errorf("alert spool: %w", err)
	}
	if err := safefs.WriteAtomicGroup(s.Dir, e.fileName(), append(data, '\n'), 0o640, int(st.Gid)); err != nil {
		return fmt.Errorf("alert spool: %w", err)
	}
	return nil
}

// Remove takes e out of the spool: delivered or dropped.
func (s Spool) Remove(e *Entry) error {
	dfd, err := scan.OpenDir(s.Dir)
	if err != nil {
		return fmt.Errorf("alert spool: %w", err)
	}
	defer unix.Close(dfd)
	if err := unix.Unlinkat(dfd, e.fileName(), 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("alert spool: remove %s: %w", e.fileName(), err)
	}
	return nil
}

// Entries reads every alert in the spool, oldest first. A file that is not
// a readable entry is reported in bad and left where it is.
func (s Spool) Entries() (entries []*Entry, bad []error, err error) {
	dfd, err := scan.OpenDir(s.Dir)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("alert spool: %w", err)
	}
	defer unix.Close(dfd)
	names, err := s.names(dfd)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range names {
		e, err := readEntry(dfd, name)
		if err != nil {
			bad = append(bad, fmt.Errorf("alert spool: %s: %w", name, err))
			continue
		}
		entries = append(entries, e)
	}
	sortEntries(entries)
	return entries, bad, nil
}

// Count is how many alerts wait in the spool (gomaint_alert_spool_files).
func (s Spool) Count() (int, error) {
	dfd, err := scan.OpenDir(s.Dir)
	if errors.Is(err, unix.ENOENT) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("alert spool: %w", err)
	}
	defer unix.Close(dfd)
	names, err := s.names(dfd)
	return len(names), err
}

func (s Spool) names(dfd int) ([]string, error) {
	d, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("alert spool: %w", err)
	}
	f := os.NewFile(uintptr(d), s.Dir)
	defer f.Close()
	all, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("alert spool: %w", err)
	}
	var names []string
	for _, n := range all {
		if strings.HasSuffix(n, suffix) && !strings.HasPrefix(n, ".") {
			names = append(names, n)
		}
	}
	return names, nil
}

func readEntry(dfd int, name string) (*Entry, error) {
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	return decodeEntry(f, name)
}

// decodeEntry reads the entry called name from its open file f.
func decodeEntry(f *os.File, name string) (*Entry, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxEntry+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxEntry {
		return nil, fmt.Errorf("larger than %d bytes", maxEntry)
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	if e.fileName() != name {
		return nil, fmt.Errorf("its alert is %q for route %q, not what its name says", e.Alert.ID, e.Route)
	}
	return &e, nil
}
