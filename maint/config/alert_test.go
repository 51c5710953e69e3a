package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodAlerts = `
[[alert]]
name = "ops-chat"
webhook = "https://hooks.example.invalid/T000/B000/secret-token"
format = "slack"
min_severity = "warning"
codes = []
[[alert]]
name = "pager"
exec = ["/usr/local/bin/page-oncall", "--team", "build"]
repeat = "2h"
`

// TestAlertRoutes: the example parses, with the defaults filled in.
func TestAlertRoutes(t *testing.T) {
	c, err := Parse(User, "f.toml", []byte(goodAlerts))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Alerts) != 2 {
		t.Fatalf("%d routes", len(c.Alerts))
	}
	p := c.Alerts[1]
	if p.Format != FormatJSON || p.MinSeverity != "warning" || time.Duration(p.Repeat) != 2*time.Hour || time.Duration(p.RetryFor) != 24*time.Hour || len(p.Exec) != 3 {
		t.Errorf("pager route %+v", p)
	}
	if s := c.Redacted().Alerts[0].Webhook; strings.Contains(s, "secret") || !strings.HasPrefix(s, "https://hooks.example.invalid/") {
		t.Errorf("config show would print %q", s)
	}
	if !strings.Contains(c.Alerts[0].Webhook, "secret-token") {
		t.Error("Redacted changed the configuration itself")
	}
}

// TestAlertErrors: each bad [[alert]] names its file, line and key.
func TestAlertErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"name = \"a\"\nwebhook = \"https://h/x\"\nformat = \"teams\"", `f.toml:5: alert[0].format: "teams": must be`},
		{"name = \"a\"\nwebhook = \"https://h/x\"\nexec = [\"/bin/true\"]", `f.toml:4: alert[0].webhook: set exactly one of webhook, webhook_file, webhook_credential and exec (2 are set)`},
		{"name = \"a\"\nexec = [\"page\"]", `f.toml:4: alert[0].exec: "page" is relative`},
		{"name = \"a\"\nexec = [\"/bin/page\"]\nformat = \"slack\"", `f.toml:5: alert[0].format: "slack" is for webhooks`},
		{"name = \"a\"\nwebhook = \"ftp://h/x\"", `alert[0].webhook: scheme "ftp"`},
		{"name = \"a\"\nwebhook_file = \"url\"", `alert[0].webhook_file: "url" is relative`},
		{"name = \"a\"\nwebhook_credential = \"../x\"", `alert[0].webhook_credential: "../x" is not a credential name`},
		{"name = \"A b\"\nexec = [\"/bin/x\"]", `f.toml:3: alert[0].name: "A b": use lowercase`},
		{"name = \"a\"\nexec = [\"/bin/x\"]\ncodes = [\"permission denied\"]", `alert[0].codes: "permission denied" is not a finding code`},
		{"name = \"a\"\nexec = [\"/bin/x\"]\nmin_severity = \"loud\"", `alert[0].min_severity: "loud": must be`},
		{"name = \"a\"\nexec = [\"/bin/x\"]\nrepeat = \"1s\"", `alert[0].repeat: 1s is below 1m`},
		{"name = \"a\"\nexec = [\"/bin/x\"]\nsound = true", `f.toml:5: alert.sound: unknown key`},
	} {
		_, err := Parse(User, "f.toml", []byte("# routes\n[[alert]]\n"+tc.body+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.body, err, tc.want)
		}
	}
}

// TestWebhookSecret: a file holding a webhook URL that every user may read
// is refused, and the error says how to keep the URL secret; the same file
// at 0600 loads, and a route reading its URL from a file does not need it.
func TestWebhookSecret(t *testing.T) {
	f := filepath.Join(t.TempDir(), "gomaint.toml")
	if err := os.WriteFile(f, []byte(goodAlerts), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(User, f, os.Getenv)
	if err == nil || !strings.Contains(err.Error(), "alert[0].webhook: refused: a webhook URL is a credential") || !strings.Contains(err.Error(), "webhook_file") {
		t.Fatalf("world-readable webhook: %v", err)
	}
	if strings.Contains(err.Error(), "secret-token") {
		t.Errorf("the error repeats the URL: %v", err)
	}
	if err := os.Chmod(f, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(User, f, os.Getenv); err != nil {
		t.Fatalf("0600: %v", err)
	}
	other := strings.Replace(goodAlerts, `webhook = "https://hooks.example.invalid/T000/B000/secret-token"`, `webhook_file = "/etc/gomaint/ops-chat.url"`, 1)
	if err := os.WriteFile(f, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(User, f, os.Getenv); err != nil {
		t.Fatalf("webhook_file in a 0644 file: %v", err)
	}
}
