package config

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
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
	// The largest sizes below 2^63 bytes parse; from 2^63 on they would
	// wrap to a negative size, which means no limit.
	for in, want := range map[string]Size{"8388607TiB": 8388607 << 40, "9223372036854774784": 9223372036854774784} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"9223372036854775807", "8388608TiB", "9223372036854775808", "1" + strings.Repeat("0", 400)} {
		if got, err := ParseSize(in); err == nil || !strings.Contains(err.Error(), "is too large") {
			t.Errorf("ParseSize(%q) = %d, %v; want too large", in, got, err)
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
	for _, in := range []string{"", "30", "-1d", "-5m", "soon", "NaNd", "nanw", "-NaNd"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
	if got, err := ParseDuration("106751d"); err != nil || time.Duration(got) != 106751*24*time.Hour {
		t.Errorf("ParseDuration(106751d) = %v, %v", time.Duration(got), err)
	}
	for _, in := range []string{"106752d", "15251w", "infd", "+Infinityw", "1e300d", "1e400d"} {
		if got, err := ParseDuration(in); err == nil || !strings.Contains(err.Error(), "is too large") {
			t.Errorf("ParseDuration(%q) = %v, %v; want too large", in, time.Duration(got), err)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	for _, spec := range []string{"@hourly", "@daily", "@every 1m", "@every 30m", "0 3 * * *", "0 0 31 * *", "0 0 29 2 1", "CRON_TZ=Asia/Tokyo 0 3 * * *"} {
		if s, err := ParseSchedule(spec); err != nil || s == nil {
			t.Errorf("ParseSchedule(%q): %v", spec, err)
		}
	}
	for spec, want := range map[string]string{
		"0 0 30 2 *": "never fires", "0 0 31 4,6,9,11 *": "never fires", "0 0 29 2 *": "less than once a year",
		"@every 0s": "at least 1m", "@every -1h": "at least 1m", "@every 59.9s": "at least 1m",
		// robfig/cron panics on a time zone without a schedule after it.
		"TZ=UTC": "must be followed by a space", "CRON_TZ=Europe/Berlin": "must be followed by a space",
	} {
		if _, err := ParseSchedule(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSchedule(%q) = %v; want %q", spec, err, want)
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
	older := [][2]string{{"go1.21.9", "go1.22"}, {"go1.22rc1", "go1.22.0"}, {"go1.22", "go1.22.1"}, {"go1.9", "go1.10"},
		{"go1.22rc9", "go1.22rc10"}, {"go1.22beta2", "go1.22rc1"}}
	for _, p := range older {
		a, ok1 := ParseGoVersion(p[0])
		b, ok2 := ParseGoVersion(p[1])
		if !ok1 || !ok2 || !a.Less(b) || b.Less(a) {
			t.Errorf("%s should be older than %s", p[0], p[1])
		}
	}
	for _, bad := range []string{"go1", "1.x", "go1.22.3.4", "go1.22alpha", "go+1.22", "go1.-2", "go1.22rc", "go1.22rcx", "go1.22beta", "go1.22 rc1"} {
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
	mode, group := Private, ""
	if _, err := user.LookupGroup(SharedGroup); err == nil {
		mode, group = Shared, SharedGroup
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
remove_modified = true
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
	if b.RemoveModified || !m.RemoveModified {
		t.Errorf("remove_modified: build %v (default false), mod %v (set true)", b.RemoveModified, m.RemoveModified)
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
		{"unknown table", "[gorot]\nrequired = false\n", "f.toml:1: gorot: unknown key"},
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
		{"goroot not a table", "goroot = 5\n", "f.toml:1: goroot: must be a table: write [goroot] above its keys"},
		{"target not an array", "[target]\nname = \"b\"\n", "f.toml:1: target: must be tables: write [[target]] above the keys of each target"},
		{"target not a table", "target = [1]\n", "f.toml:1: target: must be a table: write [[target]] above its keys"},
		{"remove_modified on a build cache", "[[target]]\nname = \"b\"\nkind = \"build\"\nremove_modified = true\n", "f.toml:4: target[0].remove_modified: only a module cache"},
		{"remove_modified not a bool", "[[target]]\nname = \"m\"\nkind = \"mod\"\nremove_modified = \"yes\"\n", "f.toml:4: target.remove_modified: incompatible types"},
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

// hostileConfigs are the bad inputs of issue 14 (7 to 10) with the exact
// rejection each must get; cmd/gomaint checks the same through the CLI.
var hostileConfigs = []struct {
	name, data, want string
}{
	{"size overflow in bytes", "[[target]]\nname = \"b\"\nkind = \"build\"\nmax_size = \"9223372036854775807\"\n",
		`f.toml:4: target.max_size: "9223372036854775807" is too large: a size must be below 8EiB`},
	{"size overflow in TiB", "[[target]]\nname = \"b\"\nkind = \"build\"\nlow_water = \"8388608TiB\"\n",
		`f.toml:4: target.low_water: "8388608TiB" is too large: a size must be below 8EiB`},
	{"duration NaN", "[[target]]\nname = \"b\"\nkind = \"mod\"\nvcs_max_age = \"NaNd\"\n",
		`f.toml:4: target.vcs_max_age: "NaNd" is not a duration: write e.g. "90m", "36h", "30d" or "2w"`},
	{"duration inf", "[[target]]\nname = \"b\"\nkind = \"mod\"\ntoolchain_max_age = \"infd\"\n",
		`f.toml:4: target.toolchain_max_age: "infd" is too large: a duration must be below 106752d`},
	{"duration 1e300", "[[target]]\nname = \"b\"\nkind = \"build\"\nmax_age = \"1e300d\"\n",
		`f.toml:4: target.max_age: "1e300d" is too large: a duration must be below 106752d`},
	{"duration wraps", "[[target]]\nname = \"b\"\nkind = \"build\"\nmin_age = \"106752d\"\n",
		`f.toml:4: target.min_age: "106752d" is too large: a duration must be below 106752d`},
	{"weeks wrap", "[daemon]\njitter = \"15251w\"\n",
		`f.toml:2: daemon.jitter: "15251w" is too large: a duration must be below 106752d`},
	{"percent NaN", "[[target]]\nname = \"b\"\nkind = \"build\"\nlow_disk_percent = nan\n",
		`f.toml:4: target[0].low_disk_percent: NaN is not a percentage between 0 and 100`},
	{"percent inf", "[[target]]\nname = \"b\"\nkind = \"build\"\nlow_inodes_percent = -inf\n",
		`f.toml:4: target[0].low_inodes_percent: -Inf is not a percentage between 0 and 100`},
	{"cron never fires", "[daemon]\naudit_schedule = \"0 0 30 2 *\"\n",
		`f.toml:2: daemon.audit_schedule: "0 0 30 2 *": it never fires, or less than once a year; write five cron fields ("0 3 * * *"), @hourly, @daily or @every 30m, or "" to disable`},
	{"cron on 29 February only", "[daemon]\nclean_schedule = \"0 3 29 2 *\"\n",
		`f.toml:2: daemon.clean_schedule: "0 3 29 2 *": it never fires, or less than once a year; write five cron fields ("0 3 * * *"), @hourly, @daily or @every 30m, or "" to disable`},
	{"every zero", "[daemon]\nrescan_schedule = \"@every 0s\"\n",
		`f.toml:2: daemon.rescan_schedule: "@every 0s": the interval must be at least 1m; write five cron fields ("0 3 * * *"), @hourly, @daily or @every 30m, or "" to disable`},
	{"verify never fires", "[daemon]\nverify_schedule = \"0 0 30 2 *\"\n",
		`f.toml:2: daemon.verify_schedule: "0 0 30 2 *": it never fires, or less than once a year; write five cron fields ("0 3 * * *"), @hourly, @daily or @every 30m, or "" to disable`},
	{"verify full every 30s", "[daemon]\njitter = \"1m\"\nverify_full_schedule = \"@every 30s\"\n",
		`f.toml:3: daemon.verify_full_schedule: "@every 30s": the interval must be at least 1m; write five cron fields ("0 3 * * *"), @hourly, @daily or @every 30m, or "" to disable`},
	{"every negative", "[daemon]\naudit_schedule = \"@every -5m\"\n",
		`f.toml:2: daemon.audit_schedule: "@every -5m": the interval must be at least 1m; write five cron fields ("0 3 * * *"), @hourly, @daily or @every 30m, or "" to disable`},
	{"every under a minute", "[daemon]\naudit_schedule = \"@every 59s\"\n",
		`f.toml:2: daemon.audit_schedule: "@every 59s": the interval must be at least 1m; write five cron fields ("0 3 * * *"), @hourly, @daily or @every 30m, or "" to disable`},
	{"wrongly typed size", "[[target]]\nname = \"b\"\nkind = \"build\"\nmax_size = true\nmin_age = \"2h\"\n",
		`f.toml:4: target.max_size: a size must be an integer (bytes) or a string such as "10GiB", not bool`},
}

// TestHostileConfigs: each is refused with exactly file:line: key: reason.
func TestHostileConfigs(t *testing.T) {
	for _, tc := range hostileConfigs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(User, "f.toml", []byte(tc.data))
			if err == nil {
				t.Fatal("accepted")
			}
			if err.Error() != tc.want {
				t.Errorf("error\n%s\nwant\n%s", err, tc.want)
			}
		})
	}
}

// TestErrorsCompleteInFileOrder: a wrongly typed key must not hide or
// mislabel the others; every error is reported, in file order, the same
// way every time (the decoder walks maps in random order).
func TestErrorsCompleteInFileOrder(t *testing.T) {
	data := `[goroot]
required = "yes"

[daemon]
watch = 3
jitter = "5m"

[[target]]
name = "b"
kind = "build"
max_size = true
low_water = "1GiB"
min_age = 5
keep_toolchains = "one"
max_sise = "1GiB"
mode = "private"

[[target]]
name = "m"
kind = "mod"
max_age = "forever"
low_disk_percent = "5"
`
	want := `f.toml:2: goroot.required: incompatible types: TOML value has type string; destination has type boolean
f.toml:5: daemon.watch: incompatible types: TOML value has type int64; destination has type boolean
f.toml:11: target.max_size: a size must be an integer (bytes) or a string such as "10GiB", not bool
f.toml:13: target.min_age: a duration must be a string such as "30d" or "36h", not int64
f.toml:14: target.keep_toolchains: incompatible types: TOML value has type string; destination has type integer
f.toml:15: target.max_sise: unknown key; see ` + "`gomaint config show`" + ` for the keys gomaint reads
f.toml:21: target.max_age: "forever" is not a duration: write e.g. "90m", "36h", "30d" or "2w"
f.toml:22: target.low_disk_percent: incompatible types: TOML value has type string; destination has type float`
	for i := range 50 {
		_, err := Parse(User, "f.toml", []byte(data))
		if err == nil || err.Error() != want {
			t.Fatalf("parse %d:\n%v\nwant\n%s", i, err, want)
		}
	}
}

// TestShownConfigMeansTheSame: `gomaint config show` prints the effective
// configuration; read back, it must be the same configuration, not one
// rounded to a display unit (1.5GB is not "1.4GiB").
func TestShownConfigMeansTheSame(t *testing.T) {
	data := "[daemon]\njitter = \"90s\"\n[[target]]\nname = \"b\"\nkind = \"build\"\nmax_size = \"1.5GB\"\nlow_water = 1200000000\nmin_age = \"1h0m0.5s\"\nmax_age = \"1.5d\"\n"
	c, err := Parse(User, "f.toml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		t.Fatal(err)
	}
	again, err := Parse(User, "f.toml", []byte(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	again.loc = c.loc // the same configuration, from another text
	if !reflect.DeepEqual(again, c) {
		t.Errorf("shown as\n%s\nread back as %+v, want %+v", b.String(), again.Targets, c.Targets)
	}
}

// TestOverridden: the command line's --max-size and --max-age replace a
// target's, low_water falls back to 90% of the new limit, and max_age
// never drops under min_age.
func TestOverridden(t *testing.T) {
	tg := Target{MaxSize: 10 << 30, LowWater: 8 << 30, MaxAge: Duration(30 * 24 * time.Hour), MinAge: Duration(2 * time.Hour)}
	if got := tg.Overridden(0, 0); got != tg {
		t.Errorf("no override changed the target: %+v", got)
	}
	got := tg.Overridden(1<<30, time.Hour)
	if got.MaxSize != 1<<30 || got.EffectiveLowWater() != (1<<30)/10*9 {
		t.Errorf("--max-size 1GiB: max_size %d, low water %d", got.MaxSize, got.EffectiveLowWater())
	}
	if got.MaxAge != tg.MinAge {
		t.Errorf("--max-age 1h under min_age 2h: max_age %v", time.Duration(got.MaxAge))
	}
	if got := tg.Overridden(0, 48*time.Hour); got.MaxAge != Duration(48*time.Hour) || got.LowWater != tg.LowWater {
		t.Errorf("--max-age 48h: %+v", got)
	}
}
