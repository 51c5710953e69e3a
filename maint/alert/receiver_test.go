package alert

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/scan"
	"golang.org/x/sys/unix"
)

// receiver is a real HTTP server that keeps what it was sent. Its answer
// is 200 unless the test sets reply.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	reply    func(w http.ResponseWriter, r *http.Request, n int) bool // true: answered
}

type received struct {
	Path, UserAgent, ContentType string
	Body                         []byte
	Accepted                     bool // answered 2xx
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	n := len(rc.requests)
	rc.requests = append(rc.requests, received{Path: r.URL.Path, UserAgent: r.UserAgent(), ContentType: r.Header.Get("Content-Type"), Body: body})
	reply := rc.reply
	rc.mu.Unlock()
	if reply != nil && reply(w, r, n) {
		return
	}
	rc.mu.Lock()
	rc.requests[n].Accepted = true
	rc.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.requests...)
}

// acceptedIDs counts, per alert ID, how often the receiver accepted it.
func (rc *receiver) acceptedIDs(t *testing.T) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, r := range rc.got() {
		if r.Accepted {
			var a Alert
			if err := json.Unmarshal(r.Body, &a); err != nil {
				t.Fatalf("receiver got %q: %v", r.Body, err)
			}
			ids[a.ID]++
		}
	}
	return ids
}

// deadAddr is a local address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// sendRoute is a webhook route to url in format.
func sendRoute(name, format, url string) Route {
	return Route{Name: name, Format: format, URL: url, Repeat: 4 * time.Hour, RetryFor: time.Hour, Timeout: 5 * time.Second}
}

// spoolOf makes a spool holding one firing alert per id for route.
func spoolOf(t *testing.T, route string, ids ...string) Spool {
	t.Helper()
	sp := Spool{Dir: filepath.Join(t.TempDir(), "spool")}
	if err := sp.Make(); err != nil {
		t.Fatal(err)
	}
	addEntries(t, sp, route, ids...)
	return sp
}

func addEntries(t *testing.T, sp Spool, route string, ids ...string) {
	t.Helper()
	for i, id := range ids {
		at := clockStart.Add(time.Duration(i) * time.Millisecond)
		a := Alert{Schema: Schema, ID: id, Status: Firing, Code: "ALERT_TEST_WARN", Severity: "warning", Target: "build",
			Message: "m " + id, Fix: "f", Path: "/var/cache/go/build", Host: "h", Version: "test", Time: at, StartsAt: at}
		if err := sp.Put(&Entry{Route: route, Alert: a, Spooled: at}); err != nil {
			t.Fatal(err)
		}
	}
}

// clockStart is when test entries are spooled; clock moves from there.
var clockStart = time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: clockStart} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// flush runs Flush once (no waiting) at the clock's time.
func flush(t *testing.T, sp Spool, c *clock, sink journal.Sink, routes ...Route) FlushResult {
	t.Helper()
	res, err := Flush(t.Context(), sp, routes, FlushOptions{Version: "9.9", Sink: sink, Now: c.Now})
	if err != nil {
		t.Fatalf("flush: %v", err)
	}
	return res
}

func entries(t *testing.T, sp Spool) []*Entry {
	t.Helper()
	es, bad, err := sp.Entries()
	if err != nil || len(bad) > 0 {
		t.Fatalf("spool: %v %v", err, bad)
	}
	return es
}

// events are the journal events of type ty.
func events(m *journal.Memory, ty journal.Type) []journal.Event {
	var out []journal.Event
	for _, e := range m.Snapshot() {
		if e.Type == ty {
			out = append(out, e)
		}
	}
	return out
}

// noSecret fails when the secret appears in any journal event.
func noSecret(t *testing.T, m *journal.Memory, secret string) {
	t.Helper()
	for _, e := range m.Snapshot() {
		if strings.Contains(e.Message, secret) {
			t.Errorf("event %q holds the URL's secret", e.Message)
		}
		for k, v := range e.Fields {
			if strings.Contains(v, secret) {
				t.Errorf("event field %s=%q holds the URL's secret", k, v)
			}
		}
	}
}

func openDir(t *testing.T, dir string) int {
	t.Helper()
	dfd, err := scan.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(dfd) })
	return dfd
}
