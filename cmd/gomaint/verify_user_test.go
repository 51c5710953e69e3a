package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestVerifyUnreadableAsUser: a real user verifying their own module
// cache, in which one file is unreadable to them (mode 000), gets
// MODULE_UNREADABLE for that version and a report, not a crash; root
// would read through the mode, so only a real user shows it.
func TestVerifyUnreadableAsUser(t *testing.T) {
	testenv.Root(t)
	u := testenv.NewUser(t, "gmt-vfix-u", testenv.Dir(t))
	cache, _, _ := testenv.ModCache(t)
	mine := filepath.Join(u.Home, "gomodcache")
	if err := os.Rename(cache, mine); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, nil, "", "chown", "-R", fmt.Sprintf("%d:%d", u.UID, u.GID), mine)
	if err := os.Chmod(filepath.Join(mine, testenv.ModTomlDir, "decode.go"), 0); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(u.Home, "gomaint.toml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[[target]]\nname = \"mod\"\nkind = \"mod\"\npath = %q\n", mine)), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(u.Home, "state")
	env := []string{"HOME=" + u.Home, "USER=" + u.Name, "STATE_DIRECTORY=" + state, "XDG_RUNTIME_DIR=" + filepath.Join(u.Home, "run")}
	r := gomaintAs(t, env, u.Attr(), "verify", "--json", "--config", conf, "--log", "none")
	if strings.Contains(r.stderr, "panic") {
		t.Fatalf("crashed:\n%s", r.stderr)
	}
	rep, _ := parseVerify(t, r)
	if r.code != exitFindings || len(rep.Findings) != 1 || rep.Findings[0].Code != "MODULE_UNREADABLE" ||
		rep.Findings[0].Module != testenv.ModToml || len(rep.Caches) != 1 || rep.Caches[0].Versions != 2 {
		t.Fatalf("exit %d, %+v\n%s\n%s", r.code, rep, r.stdout, r.stderr)
	}
}
