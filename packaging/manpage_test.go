// The man page gomaint(8).

package packaging

import (
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

func TestManPage(t *testing.T) {
	testenv.Command(t, "man")
	out, stderr, err := run(nil, "", "man", "LC_ALL=C.UTF-8", "MANWIDTH=80", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", "gomaint.8")
	if err != nil || stderr != "" || out == "" {
		t.Errorf("man --warnings: %v\n%s", err, stderr)
	}
	page := string(repoFile(t, "packaging/gomaint.8"))
	// Every command of the CLI is documented.
	for _, cmd := range []string{"audit", "clean", "fix", "protect", "check goroot", "serve", "status", "run", "config check", "config show", "version"} {
		if !strings.Contains(page, ".B "+cmd) {
			t.Errorf("gomaint.8 does not document %q", cmd)
		}
	}
}
