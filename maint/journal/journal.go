// Package journal emits gomaint's structured events: to journald when its
// socket exists, else as readable lines on stderr. Every event carries a
// MESSAGE_ID (see types.go and units/gomaint.catalog), GOMAINT_* fields with
// figures as plain integers in base units, SYSLOG_IDENTIFIER=gomaint and the
// CODE_* location of the code that emitted it.
package journal

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/gomaint/gomaint/maint/safetext"
)

// Priority is a syslog priority.
type Priority = journal.Priority

const (
	Err     = journal.PriErr
	Warning = journal.PriWarning
	Notice  = journal.PriNotice
	Info    = journal.PriInfo
	Debug   = journal.PriDebug
)

// Event is one structured journal entry.
type Event struct {
	Type     Type
	Priority Priority
	Message  string
	// Fields are GOMAINT_* (and CODE_*) fields; names are checked on Emit.
	Fields map[string]string
}

// Sink receives events.
type Sink interface {
	Send(e Event) error
}

// Emit adds the identifying fields and the caller's code location, checks
// field names, and sends e to s.
func Emit(s Sink, e Event) error {
	f := make(map[string]string, len(e.Fields)+6)
	for k, v := range e.Fields {
		if !validField(k) {
			return fmt.Errorf("journal: invalid field name %q in %s event", k, e.Type.Event)
		}
		f[k] = v
	}
	f["MESSAGE_ID"] = e.Type.ID
	f["SYSLOG_IDENTIFIER"] = "gomaint"
	f["GOMAINT_EVENT"] = e.Type.Event
	if pc, file, line, ok := runtime.Caller(1); ok {
		f["CODE_FILE"], f["CODE_LINE"] = filepath.Base(file), strconv.Itoa(line)
		if fn := runtime.FuncForPC(pc); fn != nil {
			f["CODE_FUNC"] = fn.Name()
		}
	}
	e.Fields = f
	return s.Send(e)
}

// Field names journald accepts from clients: uppercase letters, digits and
// underscores, not starting with an underscore or digit, at most 64 bytes.
var fieldName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`) })

func validField(k string) bool {
	return fieldName().MatchString(k) && k != "MESSAGE" && k != "PRIORITY"
}

// Journald sends events to the journal socket.
type Journald struct{}

func (Journald) Send(e Event) error { return journal.Send(e.Message, e.Priority, e.Fields) }

// Lines writes events as readable lines, one per event, for when there is
// no journal.
type Lines struct {
	mu sync.Mutex
	W  io.Writer
}

var priorityNames = map[Priority]string{Err: "error", Warning: "warning", Notice: "notice", Info: "info", Debug: "debug"}

func (l *Lines) Send(e Event) error {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		if strings.HasPrefix(k, "GOMAINT_") && k != "GOMAINT_EVENT" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	// Messages and fields carry names from the caches: escaped, so that
	// each event stays one line and no terminal escape gets through.
	fmt.Fprintf(&b, "gomaint: %s: %s: %s", priorityNames[e.Priority], e.Type.Event, safetext.Escape(e.Message))
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", strings.TrimPrefix(k, "GOMAINT_"), safetext.Quote(e.Fields[k]))
	}
	b.WriteByte('\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := io.WriteString(l.W, b.String())
	return err
}

// Discard drops events.
type Discard struct{}

func (Discard) Send(Event) error { return nil }

// Memory keeps events, for tests.
type Memory struct {
	mu     sync.Mutex
	Events []Event
}

func (m *Memory) Send(e Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Events = append(m.Events, e)
	return nil
}

// Snapshot returns the events sent so far.
func (m *Memory) Snapshot() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.Events...)
}

// Auto picks journald when its socket exists; otherwise readable lines on
// stderr, unless stderr is a terminal where the command's own report
// already says everything the events would.
func Auto(stderrIsTerminal bool) Sink {
	if journal.Enabled() {
		return Journald{}
	}
	if stderrIsTerminal {
		return Discard{}
	}
	return &Lines{W: os.Stderr}
}

// Int formats a figure for a field.
func Int(n int64) string { return strconv.FormatInt(n, 10) }

// Bool formats a flag for a field: 1 or 0.
func Bool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
