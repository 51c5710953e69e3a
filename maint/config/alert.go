package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Alert is one alert route ([[alert]]): where findings are delivered, in
// which format, and which of them. Exactly one of Webhook, WebhookFile,
// WebhookCredential and Exec says where.
type Alert struct {
	Name string `toml:"name"`
	// Webhook is the receiver's URL. It is a credential: a file that holds
	// one must not be readable by other users (see checkSecrets).
	Webhook string `toml:"webhook"`
	// WebhookFile holds the URL instead, in a file only root (or the user,
	// in the user scope) may read.
	WebhookFile string `toml:"webhook_file"`
	// WebhookCredential names a systemd credential (LoadCredential=) that
	// holds the URL, read from $CREDENTIALS_DIRECTORY.
	WebhookCredential string `toml:"webhook_credential"`
	// Exec runs a command with the alert as JSON on its standard input.
	Exec []string `toml:"exec"`
	// Format is the webhook's payload: "json" (gomaint's schema), "slack"
	// (Block Kit) or "alertmanager" (Webhook is then Alertmanager's base URL).
	Format      string   `toml:"format"`
	MinSeverity string   `toml:"min_severity"`
	Codes       []string `toml:"codes"`
	// Repeat is how long a finding that stays open waits before it is sent
	// again; RetryFor is how long a failing delivery is retried before the
	// alert is dropped; Timeout bounds every attempt.
	Repeat   Duration `toml:"repeat"`
	RetryFor Duration `toml:"retry_for"`
	Timeout  Duration `toml:"timeout"`
}

// Alert formats.
const (
	FormatJSON         = "json"
	FormatSlack        = "slack"
	FormatAlertmanager = "alertmanager"
)

func defaultAlert() Alert {
	return Alert{Format: FormatJSON, MinSeverity: "warning", Repeat: Duration(4 * time.Hour),
		RetryFor: Duration(24 * time.Hour), Timeout: Duration(10 * time.Second)}
}

var codePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`) })

// validateAlerts checks the routes; which codes exist is the finding
// registry's to say (alert.Routes), the spelling is checked here.
func (c *Config) validateAlerts(bad func(key, format string, a ...any)) {
	seen := map[string]bool{}
	for i, a := range c.Alerts {
		k := func(name string) string { return fmt.Sprintf("alert.%d.%s", i, name) }
		switch {
		case a.Name == "":
			bad(k("name"), "missing: every [[alert]] needs a name such as \"ops-chat\"")
		case !namePattern().MatchString(a.Name):
			bad(k("name"), "%q: use lowercase letters, digits, '-' and '_' (it names spool files and metric labels)", a.Name)
		case seen[a.Name]:
			bad(k("name"), "%q is used by another alert; names must be unique", a.Name)
		}
		seen[a.Name] = true
		set := 0
		for _, s := range []bool{a.Webhook != "", a.WebhookFile != "", a.WebhookCredential != "", len(a.Exec) > 0} {
			if s {
				set++
			}
		}
		if set != 1 {
			bad(k("webhook"), "set exactly one of webhook, webhook_file, webhook_credential and exec (%d are set)", set)
		}
		if a.Webhook != "" {
			if err := CheckWebhookURL(a.Webhook); err != nil {
				bad(k("webhook"), "%v", err)
			}
		}
		if a.WebhookFile != "" && !filepath.IsAbs(a.WebhookFile) {
			bad(k("webhook_file"), "%q is relative; write an absolute path such as \"/etc/gomaint/%s.url\"", a.WebhookFile, a.Name)
		}
		if n := a.WebhookCredential; n != "" && (strings.ContainsRune(n, '/') || n == "." || n == "..") {
			bad(k("webhook_credential"), "%q is not a credential name: write the name given to LoadCredential=, without a directory", n)
		}
		if len(a.Exec) > 0 && !filepath.IsAbs(a.Exec[0]) {
			bad(k("exec"), "%q is relative; write the command's absolute path (alerts run without a search path)", a.Exec[0])
		}
		switch a.Format {
		case FormatJSON:
		case FormatSlack, FormatAlertmanager:
			if len(a.Exec) > 0 {
				bad(k("format"), "%q is for webhooks; an exec route always gets gomaint's JSON: remove format", a.Format)
			}
		default:
			bad(k("format"), "%q: must be \"json\", \"slack\" or \"alertmanager\"", a.Format)
		}
		switch a.MinSeverity {
		case "info", "warning", "error", "critical":
		default:
			bad(k("min_severity"), "%q: must be \"info\", \"warning\", \"error\" or \"critical\"", a.MinSeverity)
		}
		for _, code := range a.Codes {
			if !codePattern().MatchString(code) {
				bad(k("codes"), "%q is not a finding code; codes are upper case, e.g. \"PERMISSION_DENIED\" (man gomaint lists them)", code)
			}
		}
		for _, d := range []struct {
			name     string
			v, least Duration
		}{{"repeat", a.Repeat, Duration(time.Minute)}, {"retry_for", a.RetryFor, Duration(time.Minute)}, {"timeout", a.Timeout, Duration(time.Second)}} {
			if d.v < d.least {
				bad(k(d.name), "%s is below %s", FormatDuration(time.Duration(d.v)), FormatDuration(time.Duration(d.least)))
			}
		}
	}
}

// CheckWebhookURL says what is wrong with a webhook URL, without repeating
// it: the URL is a credential and errors are printed and journaled.
func CheckWebhookURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return fmt.Errorf("not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("scheme %q: write an https:// (or http://) URL", u.Scheme)
	case u.Host == "":
		return fmt.Errorf("no host: write a URL such as https://hooks.example.com/...")
	}
	return nil
}

// checkSecrets refuses a file that holds a webhook URL and that every
// user may read: the URL lets anyone post to the channel. (A group that may
// read it is the administrator's choice, e.g. the sender's group.)
func (c *Config) checkSecrets(mode uint32) *Error {
	if mode&0o004 == 0 {
		return nil
	}
	for i, a := range c.Alerts {
		if a.Webhook != "" {
			return &Error{File: c.File, Line: c.loc.line(fmt.Sprintf("alert.%d.webhook", i)), Key: fmt.Sprintf("alert.%d.webhook", i),
				Reason: fmt.Sprintf("refused: a webhook URL is a credential, and this file is readable by other users (mode %04o); "+
					"fix: move the URL to webhook_file (mode 0600) or a systemd credential (LoadCredential= and webhook_credential), or chmod o-r %s", mode&0o7777, c.File)}
		}
	}
	return nil
}

// KeyError is an error about key ("alert.0.codes") of c's file, with its line.
func (c *Config) KeyError(key, format string, a ...any) *Error {
	e := &Error{File: c.File, Key: key, Reason: fmt.Sprintf(format, a...)}
	if c.loc != nil {
		e.Line = c.loc.line(key)
	}
	return e
}

// RedactURL is how a webhook URL is shown, printed and journaled: its
// scheme and host, never the path or query that carry the token.
func RedactURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "(a URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// Redacted is c with every webhook URL redacted, for `gomaint config show`.
func (c *Config) Redacted() *Config {
	r := *c
	r.Alerts = append([]Alert(nil), c.Alerts...)
	for i := range r.Alerts {
		if r.Alerts[i].Webhook != "" {
			r.Alerts[i].Webhook = RedactURL(r.Alerts[i].Webhook)
		}
	}
	return &r
}
