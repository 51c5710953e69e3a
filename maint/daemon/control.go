package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/clean"
	"github.com/gomaint/gomaint/maint/rundir"
)

// The control socket takes one JSON request per connection and answers
// with one JSON response: status, audit now, clean now. Who may ask is
// decided by SO_PEERCRED, not by the socket's mode: root, the daemon's own
// user, or (system scope) a member of a target's group.

// Limits of the control socket, so that no local user can take the
// daemon's memory or file descriptors: a request is a few dozen bytes, and
// one over maxRequest is not read further; a uid other than root and the
// daemon's own (trusted, never capped) has at most maxConnsPerUID
// connections open, and all of them together maxConns; a request must
// arrive within requestTimeout.
const (
	maxRequest     = 4 << 10
	maxConns       = 64
	maxConnsPerUID = 8
	requestTimeout = 10 * time.Second
)

// gate counts the open connections of untrusted uids.
type gate struct {
	mu    sync.Mutex
	total int
	byUID map[uint32]int
}

// enter admits one more connection of uid, unless a cap is reached.
func (g *gate) enter(uid uint32) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.total >= maxConns || g.byUID[uid] >= maxConnsPerUID {
		return false
	}
	if g.byUID == nil {
		g.byUID = map[uint32]int{}
	}
	g.total++
	g.byUID[uid]++
	return true
}

func (g *gate) leave(uid uint32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if g.byUID[uid]--; g.byUID[uid] == 0 {
		delete(g.byUID, uid)
	}
}

// Request is a control request.
type Request struct {
	Command string `json:"command"` // "status", "audit", "clean", "verify", "verify-full" or "zero" (the counts)
	Target  string `json:"target,omitempty"`
}

// Response is the daemon's answer.
type Response struct {
	Error    string          `json:"error,omitempty"`
	Status   *Status         `json:"status,omitempty"`
	Outcomes []clean.Outcome `json:"outcomes,omitempty"`
	Findings []audit.Finding `json:"findings,omitempty"`
}

// ErrNoDaemon says no daemon listens on the socket.
var ErrNoDaemon = errors.New("no gomaint daemon is running")

// ErrNoAnswer says the daemon took the request but stopped before it
// answered: the work may have been done in part.
var ErrNoAnswer = errors.New("the daemon stopped before it answered")

// Ask sends one request to the daemon listening at path and waits for its
// answer, or for ctx to end.
func Ask(ctx context.Context, path string, req Request) (*Response, error) {
	if path == "" {
		return nil, ErrNoDaemon
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED) {
		return nil, ErrNoDaemon
	} else if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	var resp Response
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&resp); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("control socket %s: %w (%v)", path, ErrNoAnswer, err)
	}
	if resp.Error != "" {
		return &resp, errors.New(resp.Error)
	}
	return &resp, nil
}

// listen makes the control socket. A socket file left by a daemon that
// died is replaced; one that answers means another daemon runs.
func listen(path string) (*net.UnixListener, error) {
	if path == "" {
		return nil, errors.New("no runtime directory for the control socket: set XDG_RUNTIME_DIR or HOME")
	}
	// No one else can write the directory, so no one can swap the socket
	// for a link between the bind and the chmod below.
	if err := rundir.Make(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("another gomaint daemon already listens on %s; stop it first", path)
	}
	os.Remove(path)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// Anyone may connect; SO_PEERCRED decides who is answered.
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return l, nil
}

// peer returns the credentials of the process at the other end.
func peer(c *net.UnixConn) (*unix.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	return cred, credErr
}

// access is what a caller may see and act on: every target (root, the
// daemon's own user), or the targets whose group they are in.
type access struct {
	all     bool
	targets map[string]bool
}

func (a access) may(target string) bool { return a.all || a.targets[target] }

func (a access) none() bool { return !a.all && len(a.targets) == 0 }

// trusted: root and the daemon's own user, who may do everything.
func trusted(cred *unix.Ucred) bool { return cred.Uid == 0 || int(cred.Uid) == os.Getuid() }

// accessOf decides for the peer cred, given each target's group (targets
// without a group are for root and the daemon's user only). Membership is
// the user database's, plus the gid the peer runs with.
func accessOf(cred *unix.Ucred, groups map[string]string) access {
	if trusted(cred) {
		return access{all: true}
	}
	var member []string
	if u, err := user.LookupId(strconv.Itoa(int(cred.Uid))); err == nil {
		member, _ = u.GroupIds()
	}
	member = append(member, strconv.Itoa(int(cred.Gid)))
	a := access{targets: map[string]bool{}}
	gids := map[string]string{} // group name -> gid, looked up once
	for target, g := range groups {
		gid, ok := gids[g]
		if !ok {
			if grp, err := user.LookupGroup(g); err == nil {
				gid = grp.Gid
			}
			gids[g] = gid
		}
		if gid != "" && slices.Contains(member, gid) {
			a.targets[target] = true
		}
	}
	return a
}
