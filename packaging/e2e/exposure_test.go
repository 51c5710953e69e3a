//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testUnitsVerify: the installed units as this version of systemd reads
// them. systemd-analyze verify has nothing to say, and systemd logged no
// complaint about a line of them when the package's daemon-reload loaded
// them.
func testUnitsVerify(t *testing.T, c *container) {
	var system, user []string
	for _, u := range exposureUnits {
		if u.user {
			user = append(user, u.path)
		} else {
			system = append(system, u.path)
		}
	}
	system = append(system, "/usr/lib/systemd/system/gomaint-clean.timer")
	user = append(user, "/usr/lib/systemd/user/gomaint-clean.timer")
	for _, args := range [][]string{
		append([]string{"systemd-analyze", "verify", "--man=no"}, system...),
		append([]string{"env", "XDG_RUNTIME_DIR=/tmp", "systemd-analyze", "--user", "verify", "--man=no"}, user...),
	} {
		if out, code, err := c.exec(time.Minute, args...); code != 0 || err != nil || out != "" {
			t.Errorf("%s: exit %d %v\n%s", shellQuote(args), code, err, out)
		}
	}
	complaint := regexp.MustCompile(`gomaint[-a-z]*\.(service|timer):\d+: `)
	for _, e := range c.journal(t, "_PID=1") {
		if complaint.MatchString(e["MESSAGE"]) {
			t.Errorf("systemd complained about a unit: %s", e["MESSAGE"])
		}
	}
}

// The units whose exposure the README records, as its table names them,
// and the most each may score: the bounds of TestUnitsExposure
// (packaging/units_test.go), which holds them on the host's systemd only.
var exposureUnits = []struct {
	row, path string
	user      bool
	max       float64
}{
	{"`gomaint.service`", "/usr/lib/systemd/system/gomaint.service", false, 2.5},
	{"`gomaint-clean.service`", "/usr/lib/systemd/system/gomaint-clean.service", false, 2.5},
	{"user `gomaint.service`", "/usr/lib/systemd/user/gomaint.service", true, 6.0},
	{"user `gomaint-clean.service`", "/usr/lib/systemd/user/gomaint-clean.service", true, 6.0},
}

var (
	exposureLevel   = regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`)
	systemdVersion  = regexp.MustCompile(`(?m)^systemd (\d+) `)
	exposureColumns = regexp.MustCompile(`systemd (\d+)`)
)

// testExposure rates the installed units with the container's
// systemd-analyze security: each within its bound, and each the figure the
// README's table gives for this version of systemd.
func testExposure(t *testing.T, c *container, repo string) {
	m := systemdVersion.FindStringSubmatch(c.run(t, "systemctl", "--version"))
	if m == nil {
		t.Fatalf("no version in systemctl --version:\n%s", c.out("systemctl", "--version"))
	}
	version := m[1]
	table := readmeExposure(t, repo)
	for _, u := range exposureUnits {
		args := []string{"systemd-analyze", "security", "--offline=yes", u.path}
		if u.user {
			args = append([]string{"env", "XDG_RUNTIME_DIR=/tmp", "systemd-analyze", "--user"}, args[1:]...)
		}
		out, _, err := c.exec(30*time.Second, args...)
		m := exposureLevel.FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Errorf("%s: no exposure level (%v):\n%s", shellQuote(args), err, out)
			continue
		}
		score, _ := strconv.ParseFloat(m[1], 64)
		t.Logf("systemd %s: %s: exposure %s", version, u.row, m[1])
		if score > u.max {
			t.Errorf("systemd %s rates %s at %s, above %.1f", version, u.row, m[1], u.max)
		}
		switch want, ok := table[u.row][version]; {
		case !ok:
			t.Errorf("README.md's exposure table has no figure for %s with systemd %s; it is %s (add a column \"systemd %s\")",
				u.row, version, m[1], version)
		case want != m[1]:
			t.Errorf("README.md's exposure table says %s for %s with systemd %s; systemd-analyze says %s", want, u.row, version, m[1])
		}
	}
}

// readmeExposure reads the README's exposure table: row name -> systemd
// major version -> figure. Its header names the versions: "| unit |
// systemd 252 (Debian 12) | ...".
func readmeExposure(t *testing.T, repo string) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]map[string]string{}
	var versions []string
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case !strings.HasPrefix(line, "|"):
			versions = nil
		case cells[0] == "unit" && len(cells) > 1 && exposureColumns.MatchString(cells[1]):
			versions = nil
			for _, h := range cells[1:] {
				if m := exposureColumns.FindStringSubmatch(h); m != nil {
					versions = append(versions, m[1])
				}
			}
		case versions != nil && len(cells) == len(versions)+1:
			table[cells[0]] = map[string]string{}
			for i, v := range versions {
				table[cells[0]][v] = cells[i+1]
			}
		}
	}
	if len(table) == 0 {
		t.Fatalf("README.md has no exposure table (a header \"| unit | systemd 252 (Debian 12) | ...\")")
	}
	return table
}
