package repair

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gomaint/gomaint/maint/audit"
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/testenv"
)

// member is a real user made with useradd, in the gocache group.
type member struct {
	name     string
	uid, gid uint32
	groups   []uint32
	home     string
}

func makeMember(t *testing.T, name, home string, gocache uint32) member {
	if _, err := user.Lookup(name); err != nil {
		testenv.Run(t, nil, "", "useradd", "--no-create-home", "--home-dir", home, "--groups", "gocache", name)
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	os.MkdirAll(home, 0o755)
	os.Chown(home, uid, gid)
	return member{name, uint32(uid), uint32(gid), []uint32{gocache}, home}
}

// shell runs a command line as a member, with the shared-cache snippet
// sourced the way a login shell would.
func (m member) shell(t *testing.T, snippet, dir, line string) (string, error) {
	cmd := exec.Command("bash", "-c", ". "+snippet+" && "+line)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + m.home, "USER=" + m.name, "PATH=" + os.Getenv("PATH"), "GOPROXY=" + os.Getenv("GOPROXY"),
		"GOTOOLCHAIN=local", "GOFLAGS=-mod=mod"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: m.uid, Gid: m.gid, Groups: m.groups}}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestTwoUsersShareCaches: two real users share one build cache and one
// module cache through the packaged tmpfiles.d drop-in and profile.d
// snippet, build again and again, survive a `sudo go build` and drift that
// gomaint fix repairs, and the audit ends clean.
func TestTwoUsersShareCaches(t *testing.T) {
	testenv.Root(t)
	testenv.Command(t, "useradd")
	testenv.Command(t, "go")
	base := testenv.Dir(t)
	shared := filepath.Join(base, "go")
	repo, _ := filepath.Abs("../..")
	testenv.Run(t, nil, "", "systemd-sysusers", filepath.Join(repo, "units/sysusers.d/gomaint.conf"))
	g, err := user.LookupGroup("gocache")
	if err != nil {
		t.Fatal(err)
	}
	gid64, _ := strconv.ParseUint(g.Gid, 10, 32)
	gocache := uint32(gid64)

	// The packaged drop-in and snippet, pointed at this test's directory.
	for _, f := range []string{"tmpfiles.d/gomaint.conf", "profile.d/gomaint-shared-cache.sh"} {
		data, err := os.ReadFile(filepath.Join(repo, "units", f))
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(base, filepath.Base(f))
		os.WriteFile(out, []byte(strings.ReplaceAll(string(data), "/var/cache/go", shared)), 0o644)
	}
	testenv.Run(t, nil, "", "systemd-tmpfiles", "--create", filepath.Join(base, "gomaint.conf"))
	snippet := filepath.Join(base, "gomaint-shared-cache.sh")

	alice := makeMember(t, "gmt-alice", filepath.Join(base, "alice"), gocache)
	bob := makeMember(t, "gmt-bob", filepath.Join(base, "bob"), gocache)
	srcs := map[string]string{}
	for _, m := range []member{alice, bob} {
		src := testenv.Module(t, m.home)
		testenv.Run(t, nil, "", "chown", "-R", fmt.Sprintf("%d:%d", m.uid, m.gid), m.home)
		srcs[m.name] = src
	}
	build := func(round string) {
		t.Helper()
		for _, m := range []member{alice, bob, alice, bob} {
			out, err := m.shell(t, snippet, srcs[m.name], "go env GOCACHE && go build -o /dev/null . && go test -count=1 .")
			if err != nil || strings.Contains(out, "permission denied") || strings.Contains(out, "failed to trim") || !strings.Contains(out, shared) {
				t.Fatalf("%s, %s: %v\n%s", round, m.name, err, out)
			}
		}
	}
	build("first builds")

	// sudo go build: root builds with the members' caches, then a careless
	// admin leaves a shard 0755 root:root and a root-only trim.txt.
	rootEnv := append(testenv.GoEnv(base), "GOCACHE="+filepath.Join(shared, "build"), "GOMODCACHE="+filepath.Join(shared, "mod"))
	testenv.Run(t, rootEnv, srcs[alice.name], "go", "build", "-o", os.DevNull, ".")
	os.Chown(filepath.Join(shared, "build", "00"), 0, 0)
	os.Chmod(filepath.Join(shared, "build", "00"), 0o755)
	os.Chown(filepath.Join(shared, "build", "trim.txt"), 0, 0)
	os.Chmod(filepath.Join(shared, "build", "trim.txt"), 0o644)

	cfg := config.Default(config.System)
	for i := range cfg.Targets {
		cfg.Targets[i].Mode, cfg.Targets[i].Group = "shared", "gocache"
		cfg.Targets[i].Path = filepath.Join(shared, string(cfg.Targets[i].Kind))
	}
	rep := audit.Run(context.Background(), audit.Request{Config: cfg, Environ: os.Environ(), Sink: journal.Discard{}})
	if n := len(rep.Findings); n == 0 {
		t.Fatal("the audit saw no drift")
	}
	out := Run(context.Background(), Request{Config: cfg, Environ: os.Environ(), LockDir: filepath.Join(base, "locks")})
	for _, o := range out {
		if o.Error != "" || o.LeftAlone() > 0 {
			t.Fatalf("fix %s: %+v %+v", o.Target, o, o.Result)
		}
	}
	build("after fix")
	rep = audit.Run(context.Background(), audit.Request{Config: cfg, Environ: os.Environ(), Sink: journal.Discard{}})
	if len(rep.Findings) != 0 {
		t.Fatalf("findings after fix and builds: %+v", rep.Findings)
	}
}
