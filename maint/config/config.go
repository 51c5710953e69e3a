// Package config loads gomaint's TOML configuration over built-in defaults.
//
// No file is ever required: a missing default file means the built-in
// defaults. Every rejected input is reported as an *Error naming the file,
// line, key and reason, so a person can fix it without reading code.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Scope says whose caches a command works on.
type Scope int

const (
	// User works on the invoking user's caches, as `go env` resolves them.
	User Scope = iota
	// System works on the targets of the system configuration.
	System
)

func (s Scope) String() string {
	if s == System {
		return "system"
	}
	return "user"
}

// Mode is who a cache belongs to.
type Mode string

const (
	Private Mode = "private" // one owner: Owner, else the owner of the cache's root
	Shared  Mode = "shared"  // every member of Group builds with it
)

// Kind is the kind of Go cache a target is.
type Kind string

const (
	Build Kind = "build" // GOCACHE
	Mod   Kind = "mod"   // GOMODCACHE
)

// Config is the effective configuration: defaults with a file laid over them.
type Config struct {
	// File is the file the configuration came from; empty for built-in defaults.
	File    string   `toml:"-"`
	Scope   Scope    `toml:"-"`
	GOROOT  GOROOT   `toml:"goroot"`
	Daemon  Daemon   `toml:"daemon"`
	Targets []Target `toml:"target"`
}

// Daemon configures `gomaint serve`. Schedules are cron specs: five fields
// ("0 3 * * *") or descriptors ("@hourly", "@every 30m"); "" disables one.
type Daemon struct {
	// AuditSchedule runs an audit of every target and journals its findings.
	AuditSchedule string `toml:"audit_schedule"`
	// CleanSchedule runs a clean of every target. Empty by default: the
	// packaged gomaint-clean.timer cleans, and one job must not run twice.
	CleanSchedule string `toml:"clean_schedule"`
	// RescanSchedule reconciles the watched totals of build caches with a
	// full count and enforces the limits of module caches, which are too
	// large to watch. Every audit does both too, so by default only the
	// audit schedule runs.
	RescanSchedule string `toml:"rescan_schedule"`
	// Jitter delays each scheduled run by a random time up to this, so a
	// fleet does not scan at the same second.
	Jitter Duration `toml:"jitter"`
	// Watch follows build caches with inotify and trims them back to their
	// low-water mark within seconds of going over max_size.
	Watch bool `toml:"watch"`
	// MetricsDir receives gomaint.prom, a Prometheus textfile; "" disables.
	MetricsDir string `toml:"metrics_dir"`
}

// GOROOT says what a usable Go installation is for this machine or user.
type GOROOT struct {
	// Required makes a missing or invalid GOROOT fatal (exit 78).
	Required bool `toml:"required"`
	// Path overrides the GOROOT that the go command would use.
	Path string `toml:"path,omitempty"`
	// ExpectVersion is the oldest acceptable Go version, e.g. "go1.22".
	ExpectVersion string `toml:"expect_version,omitempty"`
}

// Target is one cache that gomaint looks after.
type Target struct {
	Name string `toml:"name"`
	Kind Kind   `toml:"kind"`
	// Path is the cache root; empty means resolved as the go command would.
	Path string `toml:"path"`
	// MaxSize is the size above which the cache is over its limit; 0 is
	// none. AutoSize, the default of build caches, is resolved per target.
	MaxSize Size `toml:"max_size"`
	// LowDiskPercent and LowInodesPercent: free space or inodes of the cache's
	// file system below this percentage are findings.
	LowDiskPercent   float64 `toml:"low_disk_percent"`
	LowInodesPercent float64 `toml:"low_inodes_percent"`
	// ToolchainMaxAge: GOTOOLCHAIN downloads unused for longer are stale,
	// and `clean` removes them unless among the newest KeepToolchains.
	ToolchainMaxAge Duration `toml:"toolchain_max_age"`
	KeepToolchains  int      `toml:"keep_toolchains"`

	// Cleaning. MaxAge removes entries unused for longer; MinAge protects
	// everything used more recently, whatever the size. A size trim runs
	// when the cache exceeds MaxSize and stops at LowWater (0: 90% of
	// MaxSize), so that it does not run again on every new entry.
	MaxAge   Duration `toml:"max_age"`
	MinAge   Duration `toml:"min_age"`
	LowWater Size     `toml:"low_water"`
	// VCSMaxAge: module cache VCS checkouts unused for longer go whole.
	VCSMaxAge Duration `toml:"vcs_max_age"`
	// MinFree: below this much free space on the cache's file system, a
	// clean trims least recently used first (within min_age) until it is
	// back. See Floor for the default.
	MinFree Floor `toml:"min_free"`

	// Mode says whose cache it is; Owner and Group name them.
	Mode  Mode   `toml:"mode"`
	Owner string `toml:"owner,omitempty"`
	Group string `toml:"group,omitempty"`
}

// Shared reports whether the target is a cache shared through a group.
func (t Target) Shared() bool { return t.Mode == Shared }

// MinMinAge is the floor of min_age: go refreshes an entry's mtime at most
// hourly, so anything younger may be in use right now (docs/design.md, safety 5).
const MinMinAge = time.Hour

// EffectiveLowWater is where a size trim stops: low_water, unless it is
// unset or above the limit ("auto" may resolve below it); else 90% of
// max_size.
func (t Target) EffectiveLowWater() int64 {
	if t.LowWater > 0 && t.LowWater <= t.MaxSize {
		return int64(t.LowWater)
	}
	return int64(t.MaxSize) / 10 * 9
}

// Overridden is t with a command line's max_size and max_age (`gomaint
// clean --max-size --max-age`) in place of its own, where they are set.
// Under a new max_size, low_water is its default again; max_age never
// goes below min_age, which guards entries in use.
func (t Target) Overridden(maxSize int64, maxAge time.Duration) Target {
	if maxSize > 0 {
		t.MaxSize, t.LowWater = Size(maxSize), 0
	}
	if maxAge > 0 {
		t.MaxAge = Duration(max(maxAge, time.Duration(t.MinAge)))
	}
	return t
}

// Default paths of the configuration file.
const SystemFile = "/etc/gomaint/gomaint.toml"

// UserFile is $XDG_CONFIG_HOME/gomaint/gomaint.toml, else ~/.config/gomaint/gomaint.toml.
func UserFile(getenv func(string) string) string {
	if x := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "gomaint", "gomaint.toml")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "gomaint", "gomaint.toml")
	}
	return ""
}

// Default returns the built-in configuration for a scope.
func Default(scope Scope) *Config {
	c := &Config{Scope: scope, GOROOT: GOROOT{Required: true}, Daemon: Daemon{
		AuditSchedule: "@hourly",
		Jitter:        Duration(5 * time.Minute), Watch: true,
	}}
	c.Targets = []Target{defaultTarget("build", Build, ""), defaultTarget("mod", Mod, "")}
	c.Targets[0].MaxSize = AutoSize
	if scope == System {
		// The caches the package creates (tmpfiles.d/gomaint.conf), shared
		// through its group once systemd-sysusers has made it. Were they
		// private here, a deleted /etc/gomaint/gomaint.toml would have fix
		// (and the daemon) take the group's access away from every user.
		// Without the group (gomaint built from source) they are root's.
		c.Targets[0].Path, c.Targets[1].Path = "/var/cache/go/build", "/var/cache/go/mod"
		if _, err := user.LookupGroup(SharedGroup); err == nil {
			for i := range c.Targets {
				c.Targets[i].Mode, c.Targets[i].Group = Shared, SharedGroup
			}
		}
	}
	return c
}

// SharedGroup is the group of the packaged shared caches (sysusers.d/gomaint.conf).
const SharedGroup = "gocache"

func defaultTarget(name string, kind Kind, path string) Target {
	return Target{
		Name: name, Kind: kind, Path: path,
		LowDiskPercent: 5, LowInodesPercent: 5,
		ToolchainMaxAge: Duration(30 * 24 * time.Hour), KeepToolchains: 1,
		MinAge: Duration(24 * time.Hour), VCSMaxAge: Duration(30 * 24 * time.Hour),
		Mode: Private, MinFree: Floor{unset: true}.Or(kind),
	}
}

// Load reads the configuration for a scope. An explicit file must exist; the
// default file of the scope may be absent, which means built-in defaults.
func Load(scope Scope, explicit string, getenv func(string) string) (*Config, error) {
	file := explicit
	if file == "" {
		file = SystemFile
		if scope == User {
			file = UserFile(getenv)
		}
	}
	data, err := readTrusted(file)
	if explicit == "" && (file == "" || errors.Is(err, fs.ErrNotExist)) {
		return Default(scope), nil
	}
	if refused := (*Error)(nil); errors.As(err, &refused) {
		return nil, err
	}
	if err != nil {
		return nil, &Error{File: file, Reason: fmt.Sprintf("cannot read: %v", unwrapPath(err))}
	}
	return Parse(scope, file, data)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse decodes and validates data read from file.
func Parse(scope Scope, file string, data []byte) (*Config, error) {
	c := Default(scope)
	c.File = file
	loc := locate(data)
	if errs := decodeFile(c, file, data, loc); len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	errs := c.validate()
	for _, v := range errs {
		v.File, v.Line = file, loc.line(v.Key)
	}
	sortByLine(errs)
	return c, joinErrors(errs)
}

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

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

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
		{"daemon.clean_schedule", c.Daemon.CleanSchedule}, {"daemon.rescan_schedule", c.Daemon.RescanSchedule}} {
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
		case !namePattern.MatchString(t.Name):
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
		if i > 0 && parts[i-1] == "target" && p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if !bareKey.MatchString(p) {
			p = strconv.Quote(p)
		}
		b.WriteString(p)
	}
	return b.String()
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
