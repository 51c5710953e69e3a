package audit

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/testenv"
	"github.com/gomaint/gomaint/maint/tmpfiles"
)

// TestUnprotectedFixQuotesTheLine: when a system rule ages a user's cache,
// the fix is a command that appends the exclusion; for a path with a space
// and quotes, the real bash must produce exactly the quoted, escaped line
// protect writes, and a path with a newline gets no command at all.
func TestUnprotectedFixQuotesTheLine(t *testing.T) {
	bash := testenv.Command(t, "bash")
	rules := []tmpfiles.Rule{{Type: "e", Path: "/srv", Age: "10d", File: "/etc/tmpfiles.d/aging.conf", Line: 1}}
	c := &Context{Ctx: context.Background(), Scope: config.User, Tmpfiles: func() ([]tmpfiles.Rule, error) { return rules, nil }}
	check := func(p string) string {
		fs := checkUnprotected(c, &Cache{Path: p})
		if len(fs) != 1 {
			t.Fatalf("%q: %+v", p, fs)
		}
		return fs[0].Fix
	}
	fix := check(`/srv/go cache/it's "q"`)
	echo, _, ok := strings.Cut(fix, " | sudo tee -a /etc/tmpfiles.d/gomaint-local.conf")
	if !ok {
		t.Fatalf("fix %q", fix)
	}
	out, err := exec.Command(bash, "-c", echo).Output()
	if want := `x "/srv/go cache/it's \"q\""` + "\n"; err != nil || string(out) != want {
		t.Errorf("bash ran %s and wrote %q (%v), want %q", echo, out, err, want)
	}
	if fix := check("/srv/go\nf+ /root/pwned"); strings.Contains(fix, "tee") {
		t.Errorf("a path with a newline got a command: %q", fix)
	}
}
