package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/metrics"
	"github.com/gomaint/gomaint/maint/testenv"
)

// The life of a machine for the scheduled verification: a module cache
// that appears late, is wiped and comes back, a daemon that restarts, a
// state directory that turns read-only or fills up.

// uuid is a third module, added to or replacing the two of ModCache.
const uuid = "github.com/google/uuid@v1.6.0"

// ask sends command to the daemon and fails the test on an error.
func (p *inProcess) ask(t *testing.T, command string) *Response {
	t.Helper()
	resp, err := Ask(context.Background(), p.socket, Request{Command: command})
	if err != nil || resp.Error != "" {
		t.Fatalf("%s: %v %+v", command, err, resp)
	}
	return resp
}

// target is the status of the daemon's only target.
func (p *inProcess) target(t *testing.T) TargetStatus {
	t.Helper()
	return p.ask(t, "status").Status.Targets[0]
}

// verified is the daemon's last verify event, which has the counts.
func (p *inProcess) verified(t *testing.T) journal.Event {
	t.Helper()
	var last *journal.Event
	for _, e := range p.events.Snapshot() {
		if e.Type == journal.Verify && e.Fields["GOMAINT_VERSIONS"] != "" {
			last = &e
		}
	}
	if last == nil {
		t.Fatal("no verify event")
	}
	return *last
}

// counts asserts the verify event's versions, hashed and unchanged.
func counts(t *testing.T, e journal.Event, versions, hashed, unchanged string) {
	t.Helper()
	if f := e.Fields; f["GOMAINT_VERSIONS"] != versions || f["GOMAINT_HASHED"] != hashed || f["GOMAINT_UNCHANGED"] != unchanged {
		t.Errorf("verify event: %s versions, %s hashed, %s unchanged; want %s, %s, %s (%s)",
			f["GOMAINT_VERSIONS"], f["GOMAINT_HASHED"], f["GOMAINT_UNCHANGED"], versions, hashed, unchanged, e.Message)
	}
}

// halt stops the daemon as SIGTERM does and waits for it, leaving its
// exit status for the test's cleanup.
func (p *inProcess) halt(t *testing.T) {
	t.Helper()
	p.stop()
	select {
	case code := <-p.exited:
		p.exited <- code
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not stop within 10s")
	}
}

func modTarget(cache string) *config.Config {
	return quiet(config.Target{Name: "mod", Kind: config.Mod, Path: cache, Mode: "private"})
}

// TestVerifyCacheAppears: a module cache that does not exist when the
// daemon starts is verified as absent (the journal and the status say so,
// nothing crashes), and the next scheduled verification after go made it
// hashes every version, and the metrics count them.
func TestVerifyCacheAppears(t *testing.T) {
	cache := filepath.Join(testenv.Dir(t), "gomodcache")
	cfg := modTarget(cache)
	cfg.Daemon.VerifySchedule = "@every 1m" // the shortest a configuration may have
	cfg.Daemon.MetricsDir = t.TempDir()
	d := runDaemon(t, cfg)

	d.ask(t, jobVerify)
	e := d.verified(t)
	if e.Fields["GOMAINT_REASON"] != "absent" || !strings.Contains(e.Message, "absent") || e.Priority != journal.Info {
		t.Errorf("the verify event of an absent cache: %+v", e)
	}
	if st := d.target(t); !strings.HasPrefix(st.LastVerifyResult, "absent") || len(st.Findings) != 0 {
		t.Errorf("status of an absent cache: %q, findings %v", st.LastVerifyResult, st.Findings)
	}
	if keys := testenv.Remembered(t, d.stateDir, cache); len(keys) != 0 {
		t.Errorf("an absent cache has versions remembered: %v", keys)
	}

	testenv.ModDownload(t, cache, nil, testenv.ModXMod, testenv.ModToml)
	d.await(t, "running verify of all targets (schedule)", 70*time.Second)
	var st TargetStatus
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if st = d.target(t); strings.HasPrefix(st.LastVerifyResult, "2 versions") {
			break
		}
	}
	if !strings.HasPrefix(st.LastVerifyResult, "2 versions, 2 hashed") || len(st.Findings) != 0 || st.VerifyModules["ok"] != 2 {
		t.Fatalf("after the scheduled verification of the new cache: %+v", st)
	}
	counts(t, d.verified(t), "2", "2", "0")
	if keys := testenv.Remembered(t, d.stateDir, cache); !slices.Equal(keys, []string{testenv.ModTomlDir, testenv.ModXMod}) {
		t.Errorf("remembered %v", keys)
	}
	var s metrics.Snapshot
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s, _ = metrics.Read(cfg.Daemon.MetricsDir); len(s.Targets) == 1 && s.Targets[0].VerifyModules["ok"] == 2 {
			break
		}
	}
	if len(s.Targets) != 1 || s.Targets[0].VerifyModules["ok"] != 2 || s.Targets[0].LastVerifySuccess.IsZero() {
		t.Errorf("gomaint.prom after the cache appeared: %+v", s.Targets)
	}
}

// TestVerifyCacheWiped: a cache wiped and made again with other content
// between two runs is hashed anew: what the state remembers of the old
// cache never counts, a changed version is MODULE_MODIFIED, and versions
// gone are dropped from the state; a run while the cache is absent drops
// them all.
func TestVerifyCacheWiped(t *testing.T) {
	cache, _, _ := testenv.ModCache(t)
	d := runDaemon(t, modTarget(cache))
	d.ask(t, jobVerify)
	counts(t, d.verified(t), "2", "2", "0")

	testenv.RemoveAll(t, cache)
	testenv.ModDownload(t, cache, nil, testenv.ModToml, uuid)
	testenv.FlipByte(t, filepath.Join(cache, testenv.ModTomlDir, "decode.go"))
	resp := d.ask(t, jobVerify)
	if len(resp.Findings) != 1 || resp.Findings[0].Code.String() != "MODULE_MODIFIED" || resp.Findings[0].Path != testenv.ModTomlDir {
		t.Errorf("the new cache's changed version: findings %+v", resp.Findings)
	}
	counts(t, d.verified(t), "2", "2", "0")
	if keys := testenv.Remembered(t, d.stateDir, cache); !slices.Equal(keys, []string{uuid}) {
		t.Errorf("remembered %v, want only %s: x/mod is gone, toml is modified", keys, uuid)
	}

	testenv.RemoveAll(t, cache)
	d.ask(t, jobVerify)
	if st := d.target(t); !strings.HasPrefix(st.LastVerifyResult, "absent") || len(st.Findings) != 0 {
		t.Errorf("status after the cache was wiped: %q, findings %v", st.LastVerifyResult, st.Findings)
	}
	if keys := testenv.Remembered(t, d.stateDir, cache); len(keys) != 0 {
		t.Errorf("the wiped cache's versions are still remembered: %v", keys)
	}
}

// TestVerifyAcrossRestart: what one daemon verified, the next one after a
// restart does not hash again; only a version added since is hashed.
func TestVerifyAcrossRestart(t *testing.T) {
	cache, _, _ := testenv.ModCache(t)
	state := t.TempDir()
	inState := func(o *Options) { o.StateDir = state }
	first := runDaemon(t, modTarget(cache), inState)
	first.ask(t, jobVerify)
	counts(t, first.verified(t), "2", "2", "0")
	first.halt(t)

	second := runDaemon(t, modTarget(cache), inState)
	second.ask(t, jobVerify)
	counts(t, second.verified(t), "2", "0", "2")
	testenv.ModDownload(t, cache, nil, uuid)
	second.ask(t, jobVerify)
	counts(t, second.verified(t), "3", "1", "2")
}

// TestVerifyStateUnwritable: when verify.json cannot be written (the
// state directory read-only, or its file system full), the verification
// still reports its findings, and the journal and the status say that
// what it verified was not remembered; the state that was there stays
// valid and is used.
func TestVerifyStateUnwritable(t *testing.T) {
	for name, spoil := range map[string]func(t *testing.T, mnt string){
		"read-only": func(t *testing.T, mnt string) {
			// EBUSY while the daemon still writes status.json there, after
			// it answered.
			var err error = unix.EBUSY
			for deadline := time.Now().Add(5 * time.Second); errors.Is(err, unix.EBUSY) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				err = unix.Mount("", mnt, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
			}
			if err != nil {
				t.Fatalf("remount %s read-only: %v", mnt, err)
			}
		},
		"full": func(t *testing.T, mnt string) {
			f, err := os.Create(filepath.Join(mnt, "filler"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for buf := make([]byte, 4096); ; {
				if _, err := f.Write(buf); err != nil {
					break // ENOSPC: full
				}
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			testenv.Root(t)
			cache, _, _ := testenv.ModCache(t)
			dir := testenv.Dir(t)
			var mnt string
			if name == "full" {
				mnt = testenv.Mount(t, dir, "tmpfs", "tmpfs", "size=256k")
			} else {
				src := filepath.Join(dir, "state")
				os.Mkdir(src, 0o700)
				mnt = testenv.Mount(t, dir, "", src, "")
			}
			d := runDaemon(t, modTarget(cache), func(o *Options) { o.StateDir = mnt })
			d.ask(t, jobVerify)
			counts(t, d.verified(t), "2", "2", "0")

			spoil(t, mnt)
			testenv.ModDownload(t, cache, nil, uuid)
			testenv.FlipByte(t, filepath.Join(cache, testenv.ModTomlDir, "decode.go"))
			resp := d.ask(t, jobVerify)
			if len(resp.Findings) != 1 || resp.Findings[0].Code.String() != "MODULE_MODIFIED" {
				t.Errorf("findings %+v, want toml's MODULE_MODIFIED", resp.Findings)
			}
			counts(t, d.verified(t), "3", "2", "1")
			var warned []journal.Event
			for _, e := range d.events.Snapshot() {
				if e.Type == journal.VerifyIncomplete && strings.Contains(e.Fields["GOMAINT_REASON"], "verify.json") {
					warned = append(warned, e)
				}
			}
			if len(warned) != 1 || warned[0].Priority != journal.Warning || !strings.Contains(warned[0].Message, "not remembered") {
				t.Errorf("the journal does not say the state was not saved: %+v", warned)
			}
			st := d.target(t)
			if !strings.Contains(st.LastVerifyResult, "not remembered for the next run") || len(st.Findings) != 1 {
				t.Errorf("the status does not say the state was not saved: %q, findings %v", st.LastVerifyResult, st.Findings)
			}
			if keys := testenv.Remembered(t, mnt, cache); !slices.Equal(keys, []string{testenv.ModTomlDir, testenv.ModXMod}) {
				t.Errorf("the state before is gone or changed: %v", keys)
			}
			// The state there is still used: x/mod is not hashed again.
			d.ask(t, jobVerify)
			counts(t, d.verified(t), "3", "2", "1")
		})
	}
}
