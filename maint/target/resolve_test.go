package target

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/testenv"
)

// resolveOne resolves one build target at path (or, with path "", from
// environ) as root would.
func resolveOne(t *testing.T, path string, environ []string) Resolved {
	t.Helper()
	cfg := config.Default(config.User)
	cfg.Targets = cfg.Targets[:1]
	cfg.Targets[0].Path, cfg.Targets[0].MaxSize = path, 0
	rs, _ := Resolve(context.Background(), cfg, environ)
	if len(rs) != 1 {
		t.Fatalf("Resolve gave %d targets for 1", len(rs))
	}
	return rs[0]
}

// TestResolveRefusesUsersLink: a target path through a link that a real
// unprivileged user made, in their home or in a sticky world-writable
// directory such as /tmp, is refused with an error naming the link, its
// owner and what to configure; it is never resolved to where the link
// points. A link root made in root's own directory is followed.
func TestResolveRefusesUsersLink(t *testing.T) {
	testenv.Root(t)
	dir := testenv.Dir(t)
	u := testenv.NewUser(t, "gmstr-link", dir)
	secret := filepath.Join(dir, "secret")
	os.MkdirAll(filepath.Join(secret, "go-build"), 0o700)
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o777)
	os.Chmod(tmp, 0o1777)
	u.Sh(t, "ln -s "+secret+" cache && ln -s "+secret+" "+filepath.Join(tmp, "cache"))
	for _, c := range []struct{ path, link, dir string }{
		{filepath.Join(u.Home, "cache", "go-build"), filepath.Join(u.Home, "cache"), u.Home},
		{filepath.Join(tmp, "cache", "go-build"), filepath.Join(tmp, "cache"), tmp},
	} {
		r := resolveOne(t, c.path, os.Environ())
		var le *LinkError
		if !errors.As(r.Err, &le) || le.Link != c.link || le.Dir != c.dir || le.LinkUID != uint32(u.UID) {
			t.Errorf("%s: Err %v; want a LinkError for %s (uid %d) below %s", c.path, r.Err, c.link, u.UID, c.dir)
			continue
		}
		if r.Path == filepath.Join(secret, "go-build") {
			t.Errorf("%s resolved to the link's target %s", c.path, r.Path)
		}
		if msg := r.Err.Error(); !strings.Contains(msg, c.link) || !strings.Contains(msg, u.Name) || !strings.Contains(msg, "configure the real directory") {
			t.Errorf("the error does not name the link, its owner and the fix: %s", msg)
		}
	}
	os.Symlink(secret, filepath.Join(dir, "rootlink"))
	if r := resolveOne(t, filepath.Join(dir, "rootlink", "go-build"), os.Environ()); r.Err != nil || r.Path != filepath.Join(secret, "go-build") || !r.Exists {
		t.Errorf("root's own link: %+v", r)
	}
}

// TestResolveFromEnvironment: with no path configured the cache is the one
// go would use; GOCACHE=off disables the target, a relative GOCACHE
// leaves it unresolved, and a cache go has not made yet resolves as not
// existing.
func TestResolveFromEnvironment(t *testing.T) {
	testenv.Command(t, "go")
	dir := t.TempDir()
	env := func(gocache string) []string { return append(os.Environ(), "GOCACHE="+gocache, "GOFLAGS=") }
	if r := resolveOne(t, "", env("off")); !r.Disabled || r.Unresolved || r.Path != "" {
		t.Errorf("GOCACHE=off: %+v", r)
	}
	if r := resolveOne(t, "", env("relative/cache")); !r.Unresolved || r.Path != "" {
		t.Errorf("relative GOCACHE: %+v", r)
	}
	want := filepath.Join(dir, "not", "yet")
	if r := resolveOne(t, "", env(want)); r.Err != nil || r.Path != want || r.Exists {
		t.Errorf("GOCACHE=%s: %+v", want, r)
	}
}

func TestSelect(t *testing.T) {
	cfg := config.Default(config.User)
	if !Select(cfg, "mod") || len(cfg.Targets) != 1 || cfg.Targets[0].Name != "mod" {
		t.Errorf("Select mod: %+v", cfg.Targets)
	}
	if Select(cfg, "build") {
		t.Errorf("Select found build in a config narrowed to mod")
	}
}
