package journal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomaint/gomaint/maint/config"
)

// TestConfigFields: a rejected file is located by file, line and key, so
// that journalctl GOMAINT_CONFIG_KEY=... finds it; another error adds
// nothing.
func TestConfigFields(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gomaint.toml")
	body := "[[target]]\nname = \"build\"\nkind = \"build\"\npath = \"/var/cache/go-build\"\nmin_age = \"10m\"\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(config.System, file, func(string) string { return "" })
	if err == nil {
		t.Fatal("a min_age below 1h was accepted")
	}
	got := ConfigFields(err)
	if got["GOMAINT_CONFIG_FILE"] != file || got["GOMAINT_CONFIG_LINE"] != "5" || got["GOMAINT_CONFIG_KEY"] == "" {
		t.Errorf("fields %v for %v; want the file, line 5 and the key", got, err)
	}
	if got := ConfigFields(errors.New("other")); len(got) != 0 {
		t.Errorf("fields %v for an error that is not the configuration's", got)
	}
}
