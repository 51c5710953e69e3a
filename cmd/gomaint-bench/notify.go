// The -daemon mode's side of sd_notify: the socket systemd would listen on.

package main

import (
	"net"
	"strings"
	"sync"
	"time"
)

// notice is one sd_notify datagram from the daemon.
type notice struct {
	at  time.Time
	msg string
}

// notifyConn plays systemd's side of sd_notify.
type notifyConn struct {
	path string
	conn *net.UnixConn
	ch   chan notice
	mu   sync.Mutex
	all  []notice
}

func listenNotify(path string) (*notifyConn, error) {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	n := &notifyConn{path: path, conn: conn, ch: make(chan notice, 4096)}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				close(n.ch)
				return
			}
			m := notice{at: time.Now(), msg: string(buf[:k])}
			n.mu.Lock()
			n.all = append(n.all, m)
			n.mu.Unlock()
			select {
			case n.ch <- m:
			default: // nobody waits for it; it stays in all
			}
		}
	}()
	return n, nil
}

func (n *notifyConn) seen() []notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]notice(nil), n.all...)
}

// since returns the notices received at or after t.
func (n *notifyConn) since(t time.Time) []notice {
	var out []notice
	for _, m := range n.seen() {
		if !m.at.Before(t) {
			out = append(out, m)
		}
	}
	return out
}

// field returns the value of KEY= in an sd_notify message.
func field(msg, key string) (string, bool) {
	for line := range strings.Lines(msg) {
		if v, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), key+"="); ok {
			return v, true
		}
	}
	return "", false
}
