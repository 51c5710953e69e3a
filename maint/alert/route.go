package alert

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/finding"
	"golang.org/x/sys/unix"
)

// Route is one configured [[alert]], its URL read.
type Route struct {
	Name   string
	Format string
	// URL is the webhook (a credential: print Redacted, never URL); empty
	// for an exec route.
	URL         string
	Exec        []string
	MinSeverity finding.Severity
	Codes       []string // empty: every code
	Repeat      time.Duration
	RetryFor    time.Duration
	Timeout     time.Duration
}

// Redacted is where the route delivers, safe to print and journal.
func (r *Route) Redacted() string {
	if len(r.Exec) > 0 {
		return "exec " + r.Exec[0]
	}
	return config.RedactURL(r.URL)
}

// Takes reports whether the route wants a finding of code and severity.
func (r *Route) Takes(code string, sev finding.Severity) bool {
	return sev >= r.MinSeverity && (len(r.Codes) == 0 || slices.Contains(r.Codes, code))
}

// Routes are the alert routes of cfg, for the producers (Notifier), which
// need no URL: the codes they name must be declared findings. Errors name
// the file, line and key.
func Routes(cfg *config.Config) ([]Route, error) {
	var routes []Route
	var errs []error
	for i, a := range cfg.Alerts {
		sev, _ := finding.ParseSeverity(a.MinSeverity) // config checked the spelling
		routes = append(routes, Route{Name: a.Name, Format: a.Format, URL: strings.TrimSpace(a.Webhook), Exec: a.Exec,
			MinSeverity: sev, Codes: a.Codes, Repeat: time.Duration(a.Repeat), RetryFor: time.Duration(a.RetryFor), Timeout: time.Duration(a.Timeout)})
		for _, c := range a.Codes {
			if _, ok := finding.Lookup(c); !ok {
				errs = append(errs, cfg.KeyError(fmt.Sprintf("alert.%d.codes", i), "%q is not a finding code gomaint reports; `man gomaint` lists them under FINDINGS", c))
			}
		}
	}
	return routes, errors.Join(errs...)
}

// Senders are the routes of cfg with their URLs read, for the sender
// (Flush, `gomaint alert test`): a URL kept in a file or a systemd
// credential is read now, so that a bad one is an error that names the
// file, line and key, not a failed delivery.
func Senders(cfg *config.Config, getenv func(string) string) ([]Route, error) {
	routes, err := Routes(cfg)
	errs := []error{err}
	for i, a := range cfg.Alerts {
		key := func(k string) string { return fmt.Sprintf("alert.%d.%s", i, k) }
		switch {
		case a.WebhookFile != "":
			u, err := readSecret(a.WebhookFile)
			if err != nil {
				errs = append(errs, cfg.KeyError(key("webhook_file"), "%v", err))
				continue
			}
			routes[i].URL = u
		case a.WebhookCredential != "":
			dir := getenv("CREDENTIALS_DIRECTORY")
			if dir == "" {
				errs = append(errs, cfg.KeyError(key("webhook_credential"), "$CREDENTIALS_DIRECTORY is not set: load the credential with LoadCredential=%s:FILE in the unit that runs `gomaint alert flush`", a.WebhookCredential))
				continue
			}
			u, err := readSecret(filepath.Join(dir, a.WebhookCredential))
			if err != nil {
				errs = append(errs, cfg.KeyError(key("webhook_credential"), "%v", err))
				continue
			}
			routes[i].URL = u
		default:
			continue
		}
		if err := config.CheckWebhookURL(routes[i].URL); err != nil {
			errs = append(errs, cfg.KeyError(key("webhook"), "the URL read: %v", err))
		}
	}
	return routes, errors.Join(errs...)
}

// readSecret reads a URL from a file that only root, or the user gomaint
// runs as, owns and can read: the same trust as the configuration, and no
// reading by others.
func readSecret(file string) (string, error) {
	f, err := os.OpenFile(file, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	if err != nil {
		return "", fmt.Errorf("cannot read the URL: %w", err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return "", fmt.Errorf("cannot read the URL: %w", err)
	}
	euid := uint32(os.Geteuid())
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return "", fmt.Errorf("%s is not a regular file", file)
	case st.Uid != 0 && st.Uid != euid:
		return "", fmt.Errorf("%s is owned by uid %d; only root or the user gomaint runs as may hold its URL: chown root %s", file, st.Uid, file)
	case st.Mode&0o077 != 0:
		return "", fmt.Errorf("%s has mode %04o, and a webhook URL is a credential: chmod 0600 %s", file, st.Mode&0o7777, file)
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", fmt.Errorf("cannot read the URL: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

// LoadConfig is config.Load with the alert routes checked against the
// finding codes gomaint declares, which the config package cannot see:
// what every front door (CLI, daemon start and reload) loads.
func LoadConfig(scope config.Scope, explicit string, getenv func(string) string) (*config.Config, error) {
	cfg, err := config.Load(scope, explicit, getenv)
	if err != nil {
		return nil, err
	}
	if _, err := Routes(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}
