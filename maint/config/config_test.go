package config

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{
		"0": 0, "1024": 1024, "500MB": 500e6, "10GiB": 10 << 30, "1.5 GiB": 3 << 29, "2k": 2000, "7KiB": 7 << 10, "1TB": 1e12,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1GiB", "10 parsecs", "1.2.3MB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"36h": 36 * time.Hour, "30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "90m": 90 * time.Minute, "0s": 0, "1.5d": 36 * time.Hour,
	} {
		got, err := ParseDuration(in)
		if err != nil || time.Duration(got) != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, time.Duration(got), err, want)
		}
	}
	for _, in := range []string{"", "30", "-1d", "-5m", "soon"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for in, want := range map[int64]string{0: "0B", 1023: "1023B", 1024: "1KiB", 1536: "1.5KiB", 10 << 30: "10GiB"} {
		if got := FormatSize(in); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestGoVersion(t *testing.T) {
	older := [][2]string{{"go1.21.9", "go1.22"}, {"go1.22rc1", "go1.22.0"}, {"go1.22", "go1.22.1"}, {"go1.9", "go1.10"}}
	for _, p := range older {
		a, ok1 := ParseGoVersion(p[0])
		b, ok2 := ParseGoVersion(p[1])
		if !ok1 || !ok2 || !a.Less(b) || b.Less(a) {
			t.Errorf("%s should be older than %s", p[0], p[1])
		}
	}
	for _, bad := range []string{"go1", "1.x", "go1.22.3.4", "go1.22alpha"} {
		if _, ok := ParseGoVersion(bad); ok {
			t.Errorf("ParseGoVersion(%q) accepted", bad)
		}
	}
}

func TestDefaults(t *testing.T) {
	u := Default(User)
	if len(u.Targets) != 2 || u.Targets[0].Path != "" || u.Targets[1].Kind != Mod || !u.GOROOT.Required {
		t.Errorf("user defaults: %+v", u)
	}
	s := Default(System)
	if s.Targets[0].Path != "/var/cache/go/build" || s.Targets[1].Path != "/var/cache/go/mod" {
		t.Errorf("system defaults: %+v", s.Targets)
	}
	// The packaged caches are shared through gocache once it exists;
	// private, they would lose the group's access to fix.
	mode, group := "private", ""
	if _, err := user.LookupGroup(SharedGroup); err == nil {
		mode, group = "shared", SharedGroup
	}
	for _, tg := range s.Targets {
		if tg.Mode != mode || tg.Group != group {
			t.Errorf("system default %s: mode %q group %q, want %q %q", tg.Name, tg.Mode, tg.Group, mode, group)
		}
	}
	if errs := s.validate(); len(errs) > 0 {
		t.Errorf("system defaults do not validate: %v", errs[0])
	}
}

func TestParseOverlaysDefaults(t *testing.T) {
	data := `
[goroot]
expect_version = "go1.22"

[[target]]
name = "build"
kind = "build"
max_size = "10GiB"

[[target]]
name = "mods"
kind = "mod"
path = "/srv/gomod"
max_size = 1000
low_disk_percent = 2.5
toolchain_max_age = "7d"
`
	c, err := Parse(User, "x.toml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if !c.GOROOT.Required || c.GOROOT.ExpectVersion != "go1.22" {
		t.Errorf("goroot: %+v", c.GOROOT)
	}
	b, m := c.Targets[0], c.Targets[1]
	if b.MaxSize != 10<<30 || b.LowDiskPercent != 5 || time.Duration(b.ToolchainMaxAge) != 30*24*time.Hour {
		t.Errorf("build target lost its defaults: %+v", b)
	}
	if m.Path != "/srv/gomod" || m.MaxSize != 1000 || m.LowDiskPercent != 2.5 || time.Duration(m.ToolchainMaxAge) != 7*24*time.Hour {
		t.Errorf("mod target: %+v", m)
	}
}

// TestRejections: every bad input names file, line, key and reason.
func TestRejections(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"unknown key", "[[target]]\nname = \"b\"\nkind = \"build\"\nmax_sise = \"1GiB\"\n", "f.toml:4: target.max_sise: unknown key"},
		{"unknown table", "[gorot]\nrequired = false\n", "f.toml:2: gorot.required: unknown key"},
		{"negative size", "[[target]]\nname = \"b\"\nkind = \"build\"\n\nmax_size = \"-3GiB\"\n", "f.toml:5: target.max_size"},
		{"negative integer size", "[[target]]\nname = \"b\"\nkind = \"build\"\nmax_size = -3\n", "f.toml:4: target.max_size: -3 is negative"},
		{"wrong type", "[goroot]\nrequired = \"yes\"\n", "f.toml:2: goroot.required"},
		{"bad duration", "[[target]]\nname = \"b\"\nkind = \"build\"\ntoolchain_max_age = \"a while\"\n", "f.toml:4: target.toolchain_max_age"},
		{"relative path", "[[target]]\nname = \"b\"\nkind = \"build\"\npath = \"cache/go\"\n", "f.toml:4: target[0].path: \"cache/go\" is relative"},
		{"bad kind", "[[target]]\nname = \"b\"\nkind = \"modules\"\n", "f.toml:3: target[0].kind: \"modules\""},
		{"duplicate", "[[target]]\nname = \"b\"\nkind = \"build\"\n[[target]]\nname = \"b\"\nkind = \"mod\"\n", "f.toml:5: target[1].name: \"b\" is used by another target"},
		{"missing name", "[[target]]\nkind = \"build\"\n", "f.toml:1: target[0].name: missing"},
		{"percent", "[[target]]\nname = \"b\"\nkind = \"build\"\nlow_disk_percent = 120\n", "f.toml:4: target[0].low_disk_percent: 120"},
		{"min_age below an hour", "[[target]]\nname = \"b\"\nkind = \"build\"\nmin_age = \"30m\"\n", "f.toml:4: target[0].min_age: 30m is below 1h"},
		{"low water above max", "[[target]]\nname = \"b\"\nkind = \"build\"\nmax_size = \"1GiB\"\nlow_water = \"2GiB\"\n", "f.toml:5: target[0].low_water"},
		{"max_age below min_age", "[[target]]\nname = \"b\"\nkind = \"build\"\nmax_age = \"2h\"\n", "f.toml:4: target[0].max_age: 2h is below min_age 1d"},
		{"bad mode", "[[target]]\nname = \"b\"\nkind = \"build\"\nmode = \"public\"\n", "f.toml:4: target[0].mode: \"public\""},
		{"shared without group", "[[target]]\nname = \"b\"\nkind = \"build\"\nmode = \"shared\"\n", "f.toml:1: target[0].group: missing"},
		{"unknown group", "[[target]]\nname = \"b\"\nkind = \"build\"\nmode = \"shared\"\ngroup = \"no-such-group-x\"\n", "f.toml:5: target[0].group: group \"no-such-group-x\" does not exist"},
		{"bad version", "[goroot]\nexpect_version = \"1.x\"\n", "f.toml:2: goroot.expect_version"},
		{"syntax", "[[target]\nname = 1\n", "f.toml:2: expected end of table array name"},
		{"bad schedule", "[daemon]\naudit_schedule = \"every hour\"\n", "f.toml:2: daemon.audit_schedule: \"every hour\": expected exactly 5 fields"},
		{"cron field range", "[daemon]\nclean_schedule = \"61 3 * * *\"\n", "f.toml:2: daemon.clean_schedule: \"61 3 * * *\": end of range (61) above maximum (59)"},
		{"relative metrics dir", "\n[daemon]\nmetrics_dir = \"prom\"\n", "f.toml:3: daemon.metrics_dir: \"prom\" is relative"},
		{"system needs paths", "[[target]]\nname = \"b\"\nkind = \"build\"\n", "f.toml:1: target[0].path: empty in the system configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scope := User
			if tc.name == "system needs paths" {
				scope = System
			}
			_, err := Parse(scope, "f.toml", []byte(tc.data))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "f.toml" {
				t.Errorf("not a *config.Error naming the file: %#v", err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		if k == "XDG_CONFIG_HOME" {
			return dir
		}
		return ""
	}
	// No file: built-in defaults.
	c, err := Load(User, "", env)
	if err != nil || c.File != "" || len(c.Targets) != 2 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	// The user file is found under XDG_CONFIG_HOME.
	f := filepath.Join(dir, "gomaint", "gomaint.toml")
	os.MkdirAll(filepath.Dir(f), 0o755)
	os.WriteFile(f, []byte("[goroot]\nrequired = false\n"), 0o644)
	if c, err = Load(User, "", env); err != nil || c.File != f || c.GOROOT.Required {
		t.Fatalf("user file: %+v, %v", c, err)
	}
	// An explicit file must exist.
	_, err = Load(User, filepath.Join(dir, "missing.toml"), env)
	if err == nil || !strings.Contains(err.Error(), "missing.toml: cannot read") {
		t.Fatalf("missing explicit file: %v", err)
	}
}
