package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/config"
)

// TestConfigRejected: a rejected file is located by file, line and key, so
// that journalctl GOMAINT_CONFIG_KEY=... finds it; another error adds
// nothing; a reload says the previous configuration stays.
func TestConfigRejected(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gomaint.toml")
	body := "[[target]]\nname = \"build\"\nkind = \"build\"\npath = \"/var/cache/go-build\"\nmin_age = \"10m\"\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(config.System, file, func(string) string { return "" })
	if err == nil {
		t.Fatal("a min_age below 1h was accepted")
	}
	var m Memory
	ConfigRejected(&m, ConfigInvalid, err)
	ConfigRejected(&m, ReloadFailed, errors.New("other\nsecond"))
	ev := m.Snapshot()
	got := ev[0].Fields
	if got["GOMAINT_CONFIG_FILE"] != file || got["GOMAINT_CONFIG_LINE"] != "5" || got["GOMAINT_CONFIG_KEY"] == "" || got["MESSAGE_ID"] != ConfigInvalid.ID {
		t.Errorf("fields %v for %v; want the file, line 5 and the key", got, err)
	}
	if !strings.HasPrefix(ev[0].Message, "configuration rejected: ") {
		t.Errorf("message %q", ev[0].Message)
	}
	if got := ev[1].Fields; got["GOMAINT_CONFIG_FILE"] != "" || got["MESSAGE_ID"] != ReloadFailed.ID {
		t.Errorf("fields %v for an error that is not the configuration's", got)
	}
	if ev[1].Message != "reload failed, keeping the previous configuration: other; second" {
		t.Errorf("reload message %q", ev[1].Message)
	}
}
