// The shipped /etc/gomaint/gomaint.toml.

package packaging

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestDefaultConfig: the shipped /etc/gomaint/gomaint.toml passes the
// shipped binary's own check, and says what the package sets up.
func TestDefaultConfig(t *testing.T) {
	testenv.Root(t)
	testenv.Command(t, "systemd-sysusers")
	root := extractDeb(t, packages(t)["deb/amd64"])
	// The shared targets name the group that postinst creates; create it
	// here the same way.
	must(t, "systemd-sysusers", filepath.Join(root, "usr/lib/sysusers.d/gomaint.conf"))
	bin, conf := filepath.Join(root, "usr/bin/gomaint"), filepath.Join(root, "etc/gomaint/gomaint.toml")
	if out := must(t, bin, "config", "check", conf); !strings.Contains(out, "ok, 2 targets") {
		t.Errorf("config check: %q", out)
	}
	show := must(t, bin, "config", "show", "--system", "--config", conf)
	for _, want := range []string{
		`clean_schedule = ""`, // gomaint-clean.timer cleans; the daemon must not clean too
		`path = "/var/cache/go/build"`, `path = "/var/cache/go/mod"`,
		`mode = "shared"`, `group = "gocache"`, // what tmpfiles.d/gomaint.conf makes
		`required = true`,
	} {
		if !strings.Contains(show, want) {
			t.Errorf("config show lacks %s:\n%s", want, show)
		}
	}
	// Uncommenting the documented [goroot] path must give a valid file.
	edited := filepath.Join(t.TempDir(), "gomaint.toml")
	os.WriteFile(edited, bytes.Replace(repoFile(t, "packaging/gomaint.toml"), []byte(`# path = "/usr/local/go"`), []byte(`path = "/usr/local/go"`), 1), 0o644)
	if out := must(t, bin, "config", "show", "--system", "--config", edited); !strings.Contains(out, `path = "/usr/local/go"`) {
		t.Errorf("uncommented goroot path not in effect:\n%s", out)
	}
}
