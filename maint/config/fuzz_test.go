package config

import (
	"errors"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// errorLine is one rejection as the CLI prints it: file, line, key, reason.
var errorLine = regexp.MustCompile(`^f\.toml(:[1-9][0-9]*)?: [^\n]+$`)

// FuzzParse: any configuration file (hand-written, possibly hostile) is
// either refused with one `file:line: key: reason` line per error, in file
// order, the same every time, or accepted with values that are all in
// range, schedules that fire, and a `config show` that reads back as the
// same configuration.
func FuzzParse(f *testing.F) {
	for _, tc := range hostileConfigs {
		f.Add([]byte(tc.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(User, "f.toml", data)
		c2, err2 := Parse(User, "f.toml", data)
		if errString(err) != errString(err2) || (err == nil && !reflect.DeepEqual(c, c2)) {
			t.Fatalf("two parses differ:\n%v\n%v", err, err2)
		}
		if err != nil {
			checkRejection(t, data, err)
			return
		}
		checkAccepted(t, c)
		var b strings.Builder
		if err := toml.NewEncoder(&b).Encode(c); err != nil {
			t.Fatalf("config show: %v", err)
		}
		shown, err := Parse(User, "f.toml", []byte(b.String()))
		if err != nil {
			t.Fatalf("config show output is refused: %v\n%s", err, b.String())
		}
		shown.File, shown.loc = c.File, c.loc // the same configuration, from another text
		if !reflect.DeepEqual(shown, c) {
			t.Fatalf("config show output means another configuration:\n%s\n%+v\nwant %+v", b.String(), shown, c)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func checkRejection(t *testing.T, data []byte, err error) {
	lines := strings.Count(string(data), "\n") + 1
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	last := 0
	for _, e := range errs {
		var ce *Error
		if !errors.As(e, &ce) || ce.File != "f.toml" {
			t.Fatalf("not a *config.Error naming the file: %#v", e)
		}
		if !errorLine.MatchString(ce.Error()) {
			t.Errorf("not one line `file:line: key: reason`: %q", ce.Error())
		}
		if ce.Line < last || ce.Line > lines {
			t.Errorf("line %d out of order (after %d) or past the %d lines of the file: %v", ce.Line, last, lines, err)
		}
		last = ce.Line
	}
}

func checkAccepted(t *testing.T, c *Config) {
	for _, spec := range []string{c.Daemon.AuditSchedule, c.Daemon.CleanSchedule, c.Daemon.RescanSchedule, c.Daemon.VerifySchedule, c.Daemon.VerifyFullSchedule} {
		s, err := ParseSchedule(spec)
		if err != nil {
			t.Fatalf("accepted schedule %q does not parse: %v", spec, err)
		}
		now := time.Now()
		if s != nil && !s.Next(now).After(now) {
			t.Errorf("accepted schedule %q has no next run after %v", spec, now)
		}
	}
	if c.Daemon.Jitter < 0 {
		t.Errorf("jitter %d", c.Daemon.Jitter)
	}
	for _, tg := range c.Targets {
		// AutoSize (-1) is the one negative size: target.Resolve turns it
		// into a share of the file system.
		if (tg.MaxSize < 0 && tg.MaxSize != AutoSize) || tg.LowWater < 0 || tg.EffectiveLowWater() < 0 {
			t.Errorf("target %q: negative size %d / %d", tg.Name, tg.MaxSize, tg.LowWater)
		}
		for _, d := range []Duration{tg.MaxAge, tg.MinAge, tg.VCSMaxAge, tg.ToolchainMaxAge} {
			if d < 0 {
				t.Errorf("target %q: negative duration %d", tg.Name, d)
			}
		}
		for _, p := range []float64{tg.LowDiskPercent, tg.LowInodesPercent} {
			if math.IsNaN(p) || p < 0 || p > 100 {
				t.Errorf("target %q: percentage %v", tg.Name, p)
			}
		}
	}
}

// goVersion is what a Go release is called, written independently of
// ParseGoVersion: go1.22, go1.22.3, go1.23rc1, go1.21beta2.
var goVersion = regexp.MustCompile(`^(go)?[0-9]+\.[0-9]+(\.[0-9]+)?((rc|beta)[0-9]+)?$`)

// FuzzValue: a size, duration, schedule or Go version as written in a
// file parses without a panic to a value in range, or is refused.
func FuzzValue(f *testing.F) {
	for _, s := range []string{"10GiB", "1.5 GiB", "9223372036854775807", "8388608TiB", "30d", "NaNd", "1e300d", "106752d",
		"0 3 * * *", "0 0 30 2 *", "@every 0s", "@every 90m", "TZ=UTC", "CRON_TZ=Asia/Tokyo 0 3 * * *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if z, err := ParseSize(s); err == nil && z < 0 {
			t.Errorf("ParseSize(%q) = %d", s, z)
		} else if err == nil {
			text, _ := z.MarshalText()
			if back, err := ParseSize(string(text)); err != nil || back != z {
				t.Errorf("size %d is written %q, which reads as %d (%v)", z, text, back, err)
			}
		}
		if d, err := ParseDuration(s); err == nil && d < 0 {
			t.Errorf("ParseDuration(%q) = %d", s, d)
		}
		if v, ok := ParseGoVersion(s); ok != (goVersion.MatchString(strings.TrimSpace(s)) && fitsInt(s)) {
			t.Errorf("ParseGoVersion(%q) = %+v, %v: not what Go calls its releases", s, v, ok)
		} else if ok && (v.Less(v) || !v.Less(GoVersion{Major: v.Major, Minor: v.Minor, Patch: v.Patch + 1})) {
			t.Errorf("ParseGoVersion(%q) = %+v: out of order with itself or the next patch", s, v)
		}
		if sc, err := ParseSchedule(s); err == nil && sc != nil {
			now := time.Now()
			if next := sc.Next(now); !next.After(now) {
				t.Errorf("ParseSchedule(%q): next run %v is not after %v", s, next, now)
			}
		}
	})
}

// fitsInt reports whether every number in s fits an int.
func fitsInt(s string) bool {
	for _, n := range regexp.MustCompile(`[0-9]+`).FindAllString(s, -1) {
		if _, err := strconv.Atoi(n); err != nil {
			return false
		}
	}
	return true
}
