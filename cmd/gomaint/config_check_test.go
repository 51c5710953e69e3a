package main

import "testing"

// TestConfigCheckRefusesHostileValues: the configurations of issue 14
// (7 to 10), each accepted with exit 0 before, through the real binary:
// exit 78 and exactly `file:line: key: reason`, one error a line. A time
// zone without a schedule made robfig/cron panic (exit 2).
func TestConfigCheckRefusesHostileValues(t *testing.T) {
	const every = `; write five cron fields ("0 3 * * *"), @hourly, @daily or @every 30m, or "" to disable`
	target := "[[target]]\nname = \"b\"\nkind = \"build\"\n"
	for _, tc := range []struct{ name, body, want string }{
		{"size overflow", target + "max_size = \"9223372036854775807\"\n", `:4: target.max_size: "9223372036854775807" is too large: a size must be below 8EiB`},
		{"size overflow in TiB", target + "max_size = \"8388608TiB\"\n", `:4: target.max_size: "8388608TiB" is too large: a size must be below 8EiB`},
		{"NaN days", target + "vcs_max_age = \"NaNd\"\n", `:4: target.vcs_max_age: "NaNd" is not a duration: write e.g. "90m", "36h", "30d" or "2w"`},
		{"infinite days", target + "toolchain_max_age = \"infd\"\n", `:4: target.toolchain_max_age: "infd" is too large: a duration must be below 106752d`},
		{"1e300 days", target + "max_age = \"1e300d\"\n", `:4: target.max_age: "1e300d" is too large: a duration must be below 106752d`},
		{"106752 days", target + "vcs_max_age = \"106752d\"\n", `:4: target.vcs_max_age: "106752d" is too large: a duration must be below 106752d`},
		{"NaN percent", target + "low_disk_percent = nan\n", `:4: target[0].low_disk_percent: NaN is not a percentage between 0 and 100`},
		{"30 February", "[daemon]\naudit_schedule = \"0 0 30 2 *\"\n", `:2: daemon.audit_schedule: "0 0 30 2 *": it never fires, or less than once a year` + every},
		{"every zero", "[daemon]\naudit_schedule = \"@every 0s\"\n", `:2: daemon.audit_schedule: "@every 0s": the interval must be at least 1m` + every},
		{"every negative", "[daemon]\naudit_schedule = \"@every -1h\"\n", `:2: daemon.audit_schedule: "@every -1h": the interval must be at least 1m` + every},
		{"every 30s", "[daemon]\nclean_schedule = \"@every 30s\"\n", `:2: daemon.clean_schedule: "@every 30s": the interval must be at least 1m` + every},
		{"time zone alone", "[daemon]\naudit_schedule = \"TZ=UTC\"\n", `:2: daemon.audit_schedule: "TZ=UTC": a time zone (CRON_TZ=Europe/Berlin) must be followed by a space and the schedule` + every},
		{"wrongly typed size", target + "max_size = true\nmin_age = \"2h\"\nmode = \"private\"\n", `:4: target.max_size: a size must be an integer (bytes) or a string such as "10GiB", not bool`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := writeConfig(t, tc.body)
			r := gomaint(t, nil, "config", "check", "--config", f, "--log", "none")
			if want := "gomaint: " + f + tc.want + "\n"; r.code != 78 || r.stderr != want {
				t.Errorf("exit %d, stderr\n%q\nwant 78 and\n%q", r.code, r.stderr, want)
			}
		})
	}
}
