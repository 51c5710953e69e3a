package tmpfiles

import (
	"strings"
	"testing"
)

const catConfig = `# /usr/lib/tmpfiles.d/tmp.conf
#  comment
D /tmp 1777 root root -
q /var/tmp 1777 root root 30d

# /etc/tmpfiles.d/local.conf
e /srv/cache - - - 10d
x /srv/cache/keep
X /srv/cache/half
d %C/app 0755 - - 1w
R! /tmp/systemd-private-*
d /var/tmp/gocache 2775 root gocache -
`

func TestParse(t *testing.T) {
	rules := Parse([]byte(catConfig), SystemSpecifiers())
	if len(rules) != 8 {
		t.Fatalf("%d rules: %+v", len(rules), rules)
	}
	if r := rules[1]; r.File != "/usr/lib/tmpfiles.d/tmp.conf" || r.Line != 3 || r.Type != "q" || r.Age != "30d" {
		t.Errorf("%+v", r)
	}
	if r := rules[5]; r.Path != "/var/cache/app" || r.File != "/etc/tmpfiles.d/local.conf" || r.Line != 4 {
		t.Errorf("specifier: %+v", r)
	}
	if rules[6].Type != "R" {
		t.Errorf("modifiers not stripped: %+v", rules[6])
	}
}

func TestJudge(t *testing.T) {
	rules := Parse([]byte(catConfig), SystemSpecifiers())
	for _, tc := range []struct {
		path            string
		protected, boot bool
		cleaner         string
	}{
		{"/home/a/.cache/go-build", true, false, ""},
		{"/tmp/gocache", false, true, "/tmp"},
		{"/var/tmp/go/build", false, false, "/var/tmp"},
		{"/srv/cache/build", false, false, "/srv/cache"},
		// x and X lines shield what they name, contents included, as any
		// line of its own does: systemd-tmpfiles' aging skips such paths.
		{"/srv/cache/keep", true, false, ""},
		{"/srv/cache/keep/build", true, false, ""},
		{"/srv/cache/half", true, false, ""},
		{"/var/cache/app/go", false, false, "/var/cache/app"},
		{"/var/tmp/gocache", true, false, ""},
		{"/var/tmp/gocache/build", true, false, ""},
		{"/var/tmp/gocache2", false, false, "/var/tmp"},
	} {
		v := Judge(rules, tc.path)
		if v.Protected() != tc.protected || v.AtBoot != tc.boot {
			t.Errorf("%s: protected=%v atboot=%v (%+v)", tc.path, v.Protected(), v.AtBoot, v)
		}
		if tc.cleaner != "" && (v.Cleaner == nil || v.Cleaner.Path != tc.cleaner) {
			t.Errorf("%s: cleaner %+v, want %s", tc.path, v.Cleaner, tc.cleaner)
		}
	}
}

// TestJudgeSeparatesRuns: a user's x line does not keep the system's aging
// away, nor the other way round: they are separate runs.
func TestJudgeSeparatesRuns(t *testing.T) {
	rules := Parse([]byte(catConfig), SystemSpecifiers())
	rules = append(rules, Rule{Type: "x", Path: "/var/tmp/go", User: true}, Rule{Type: "e", Path: "/home/a/tmp", Age: "1d", User: true},
		Rule{Type: "x", Path: "/home/a/tmp/go"})
	if v := Judge(rules, "/var/tmp/go"); v.Protected() || v.Cleaner.Path != "/var/tmp" {
		t.Errorf("a user's x line kept the system's aging away: %+v", v)
	}
	if v := Judge(rules, "/home/a/tmp/go"); v.Protected() || !v.Cleaner.User {
		t.Errorf("a system x line kept a user's aging away: %+v", v)
	}
}

// TestFieldsLikeSystemd: fields are split as systemd's extract_first_word
// with EXTRACT_UNQUOTE (as the real one reads them: see fields); a line it
// refuses is dropped.
func TestFieldsLikeSystemd(t *testing.T) {
	for line, want := range map[string][]string{
		`x "/srv/go cache"`:              {"x", "/srv/go cache"},
		`x '/srv/a b' - - -`:             {"x", "/srv/a b", "-", "-", "-"},
		`x /srv/mid"dle q"uote`:          {"x", "/srv/middle quote"},
		`x "/srv/q\"t\\b"`:               {"x", `/srv/q"t\b`},
		`x /srv/\x41\ b`:                 {"x", "/srv/x41 b"},
		"d\t/srv/x   0755 a b 10d arg s": {"d", "/srv/x", "0755", "a", "b", "10d"},
		`x "/srv/open`:                   nil,
		`x /srv/bad\`:                    nil,
	} {
		got, err := fields(line, 6)
		if (want == nil) != (err != nil) || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("fields(%q) = %q, %v; want %q", line, got, err, want)
		}
	}
	rules := Parse([]byte("# /etc/tmpfiles.d/q.conf\nx \"/srv/go cache\"\nx \"/srv/bad\n"), SystemSpecifiers())
	if len(rules) != 1 || rules[0].Path != "/srv/go cache" {
		t.Errorf("%+v", rules)
	}
}

// TestParseSkipsRefusedLines: systemd-tmpfiles refuses a line with an
// unknown type or modifier ("Unknown command type"), so such a line gives a
// cache no line of its own (found by FuzzParse: "! 0" was a rule of type "").
func TestParseSkipsRefusedLines(t *testing.T) {
	rules := Parse([]byte("! /srv/a\n!d /srv/b\ny /srv/c\nd? /srv/d\nd!- /srv/ok\n"), SystemSpecifiers())
	if len(rules) != 1 || rules[0].Path != "/srv/ok" || rules[0].Type != "d" {
		t.Errorf("%+v", rules)
	}
}
