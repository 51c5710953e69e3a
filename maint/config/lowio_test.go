package config

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// TestLowIO: low_io takes true, false and "auto" (the default), is
// printed back as it reads, refuses anything else with file, line and key,
// and under low_io only the default audit schedule is lengthened.
func TestLowIO(t *testing.T) {
	for body, want := range map[string]LowIO{"": LowIOAuto, "low_io = true": LowIOOn, "low_io = false": LowIOOff, `low_io = "auto"`: LowIOAuto} {
		c, err := Parse(User, "f.toml", []byte("[daemon]\n"+body+"\n"))
		if err != nil || c.Daemon.LowIO != want {
			t.Errorf("%q: %v, %v; want %v", body, c.Daemon.LowIO, err, want)
			continue
		}
		var b strings.Builder
		if err := toml.NewEncoder(&b).Encode(c.Daemon); err != nil {
			t.Fatal(err)
		}
		again, err := Parse(User, "f.toml", []byte("[daemon]\n"+b.String()))
		if err != nil || again.Daemon.LowIO != want {
			t.Errorf("%q shown as\n%s\nread back as %v (%v)", body, b.String(), again.Daemon.LowIO, err)
		}
	}
	for _, bad := range []string{`low_io = "yes"`, "low_io = 1"} {
		_, err := Parse(User, "f.toml", []byte("# sd card\n[daemon]\n"+bad+"\n"))
		if err == nil || !strings.HasPrefix(err.Error(), "f.toml:3: daemon.low_io: ") || !strings.Contains(err.Error(), `true, false or "auto"`) {
			t.Errorf("%q: %v; want f.toml:3: daemon.low_io: ... true, false or \"auto\"", bad, err)
		}
	}
	d := Default(User).Daemon
	if got := d.AuditScheduleFor(true); got != LowIOAuditSchedule {
		t.Errorf("default audit schedule under low_io: %q", got)
	}
	if got := d.AuditScheduleFor(false); got != "@hourly" {
		t.Errorf("default audit schedule: %q", got)
	}
	d.AuditSchedule = "30 * * * *"
	if got := d.AuditScheduleFor(true); got != "30 * * * *" {
		t.Errorf("a schedule set in the file under low_io: %q, want it kept", got)
	}
}
