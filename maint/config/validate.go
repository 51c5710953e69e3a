package config

import (
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

var namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`) })

// validate checks what decoding cannot. Keys are given as "target.N.key"
// so the locator can find their lines.
func (c *Config) validate() []*Error {
	var errs []*Error
	bad := func(key, format string, a ...any) {
		errs = append(errs, &Error{Key: key, Reason: fmt.Sprintf(format, a...)})
	}
	if p := c.GOROOT.Path; p != "" && !filepath.IsAbs(p) {
		bad("goroot.path", "%q is relative; write an absolute path such as \"/usr/local/go\"", p)
	}
	if v := c.GOROOT.ExpectVersion; v != "" {
		if _, ok := ParseGoVersion(v); !ok {
			bad("goroot.expect_version", "%q is not a Go version; write e.g. \"go1.22\" or \"go1.22.3\"", v)
		}
	}
	for _, s := range []struct{ key, spec string }{{"daemon.audit_schedule", c.Daemon.AuditSchedule},
		{"daemon.clean_schedule", c.Daemon.CleanSchedule}, {"daemon.rescan_schedule", c.Daemon.RescanSchedule},
		{"daemon.verify_schedule", c.Daemon.VerifySchedule}, {"daemon.verify_full_schedule", c.Daemon.VerifyFullSchedule}} {
		if _, err := ParseSchedule(s.spec); err != nil {
			bad(s.key, "%q: %v; write five cron fields (\"0 3 * * *\"), @hourly, @daily or @every 30m, or \"\" to disable", s.spec, err)
		}
	}
	if d := c.Daemon.MetricsDir; d != "" && !filepath.IsAbs(d) {
		bad("daemon.metrics_dir", "%q is relative; write an absolute path such as \"/var/lib/prometheus/node-exporter\"", d)
	}
	if c.Daemon.Jitter < 0 {
		bad("daemon.jitter", "is negative")
	}
	if len(c.Targets) == 0 {
		bad("target", "no targets: add at least one [[target]] table")
	}
	seen := map[string]bool{}
	for i, t := range c.Targets {
		k := func(name string) string { return fmt.Sprintf("target.%d.%s", i, name) }
		switch {
		case t.Name == "":
			bad(k("name"), "missing: every [[target]] needs a name such as \"build\"")
		case !namePattern().MatchString(t.Name):
			bad(k("name"), "%q: use lowercase letters, digits, '-' and '_' (it names lock files and metric labels)", t.Name)
		case seen[t.Name]:
			bad(k("name"), "%q is used by another target; names must be unique", t.Name)
		}
		seen[t.Name] = true
		if t.Kind != Build && t.Kind != Mod {
			bad(k("kind"), "%q: must be \"build\" (GOCACHE) or \"mod\" (GOMODCACHE)", t.Kind)
		}
		if t.Path != "" && !filepath.IsAbs(t.Path) {
			bad(k("path"), "%q is relative; write an absolute path, or leave it empty to use the cache `go env` reports", t.Path)
		}
		if c.Scope == System && t.Path == "" {
			bad(k("path"), "empty in the system configuration: a system target needs an absolute path such as \"/var/cache/go/build\"")
		}
		if time.Duration(t.MinAge) < MinMinAge {
			bad(k("min_age"), "%s is below 1h: go marks use at most hourly, so a younger entry may be in use by a running build", FormatDuration(time.Duration(t.MinAge)))
		}
		if t.MaxAge != 0 && t.MaxAge < t.MinAge {
			bad(k("max_age"), "%s is below min_age %s; raise max_age or lower min_age", FormatDuration(time.Duration(t.MaxAge)), FormatDuration(time.Duration(t.MinAge)))
		}
		if t.LowWater != 0 && t.MaxSize != AutoSize && (t.MaxSize == 0 || t.LowWater > t.MaxSize) {
			bad(k("low_water"), "%s must be below max_size (%s)", FormatSize(int64(t.LowWater)), FormatSize(int64(t.MaxSize)))
		}
		switch {
		case t.Mode != Private && t.Mode != Shared:
			bad(k("mode"), "%q: must be \"private\" (one owner) or \"shared\" (a group of users)", t.Mode)
		case t.Shared() && t.Group == "":
			bad(k("group"), "missing: a shared target needs the group its users share, e.g. group = \"gocache\"")
		case t.Shared() && t.Owner != "":
			bad(k("owner"), "a shared target has no single owner; remove owner, or use mode = \"private\"")
		case !t.Shared() && t.Group != "":
			bad(k("group"), "only a shared target has a group; add mode = \"shared\" or remove group")
		}
		if t.Group != "" {
			if _, err := user.LookupGroup(t.Group); err != nil {
				bad(k("group"), "group %q does not exist: create it with `systemd-sysusers` (the package's sysusers.d/gomaint.conf) or groupadd", t.Group)
			}
		}
		if t.Owner != "" {
			if _, err := user.Lookup(t.Owner); err != nil {
				bad(k("owner"), "user %q does not exist", t.Owner)
			}
		}
		if t.RemoveModified && t.Kind != Mod {
			bad(k("remove_modified"), "only a module cache (kind = \"mod\") has versions to verify and remove; remove the key")
		}
		if t.KeepToolchains < 0 {
			bad(k("keep_toolchains"), "%d is negative", t.KeepToolchains)
		}
		for _, pc := range []struct {
			name string
			p    float64
		}{{"low_disk_percent", t.LowDiskPercent}, {"low_inodes_percent", t.LowInodesPercent}} {
			if !(pc.p >= 0 && pc.p <= 100) { // NaN too: TOML has nan
				bad(k(pc.name), "%v is not a percentage between 0 and 100", pc.p)
			}
		}
	}
	c.validateAlerts(bad)
	return errs
}

// Error is a rejected configuration: file, line, key and reason.
type Error struct {
	File   string
	Line   int
	Key    string
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(oneLine(e.File))
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(displayKey(e.Key) + ": ")
	}
	b.WriteString(oneLine(e.Reason))
	return b.String()
}

// oneLine escapes control characters (the TOML library quotes the
// input in its messages as it is), so that every error is one line.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r) // '\n'
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// displayKey turns "target.1.max_size" into "target[1].max_size", and
// quotes a part that is not a bare TOML key, so that an error stays one
// line whatever key the file has.
func displayKey(k string) string {
	parts := strings.Split(k, ".")
	var b strings.Builder
	for i, p := range parts {
		if i > 0 && (parts[i-1] == "target" || parts[i-1] == "alert") && p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if !bareKey().MatchString(p) {
			p = strconv.Quote(p)
		}
		b.WriteString(p)
	}
	return b.String()
}

var bareKey = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]+$`) })
