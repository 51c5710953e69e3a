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
	"time"

	"github.com/gomaint/gomaint/maint/paths"
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
	Alerts  []Alert  `toml:"alert"`

	loc *locator // lines of the file's keys, for errors found after Parse
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
	// VerifySchedule verifies the module caches (package verify), hashing
	// only versions new or changed since they last verified, and GOROOT
	// when it has a baseline; VerifyFullSchedule hashes every version, so
	// that a change the fingerprint cannot see (bit rot under an
	// unchanged mtime) is found within a week.
	VerifySchedule     string `toml:"verify_schedule"`
	VerifyFullSchedule string `toml:"verify_full_schedule"`
	// Jitter delays each scheduled run by a random time up to this, so a
	// fleet does not scan at the same second.
	Jitter Duration `toml:"jitter"`
	// Watch follows build caches with inotify and trims them back to their
	// low-water mark within seconds of going over max_size.
	Watch bool `toml:"watch"`
	// MetricsDir receives gomaint.prom, a Prometheus textfile; "" disables.
	MetricsDir string `toml:"metrics_dir"`
	// LowIO lengthens the audit schedule and the watch's rescans for flash
	// storage (lowio.go); auto decides from the storage.
	LowIO LowIO `toml:"low_io"`
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
	// RemoveModified lets `gomaint fix` remove a module version whose
	// verification found its files or zip differing from its hash (mod
	// targets only): off by default, as the files may be someone's edit.
	RemoveModified bool `toml:"remove_modified"`

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

// Default returns the built-in configuration for a scope.
func Default(scope Scope) *Config {
	c := &Config{Scope: scope, GOROOT: GOROOT{Required: true}, Daemon: Daemon{
		AuditSchedule: DefaultAuditSchedule, VerifySchedule: "@daily", VerifyFullSchedule: "@weekly",
		Jitter: Duration(5 * time.Minute), Watch: true,
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
		file = paths.SystemConfig
		if scope == User {
			file = paths.UserConfig(getenv)
		}
	}
	data, st, err := readTrusted(file)
	if explicit == "" && (file == "" || errors.Is(err, fs.ErrNotExist)) {
		return Default(scope), nil
	}
	if refused := (*Error)(nil); errors.As(err, &refused) {
		return nil, err
	}
	if err != nil {
		return nil, &Error{File: file, Reason: fmt.Sprintf("cannot read: %v", unwrapPath(err))}
	}
	c, err := Parse(scope, file, data)
	if err != nil {
		return nil, err
	}
	if e := c.checkSecrets(st.Mode & 0o7777); e != nil {
		return nil, e
	}
	return c, nil
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
	c.loc = loc
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
