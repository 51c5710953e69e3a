package tmpfiles

import "testing"

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
`

func TestParse(t *testing.T) {
	rules := Parse([]byte(catConfig), SystemSpecifiers())
	if len(rules) != 7 {
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
		{"/srv/cache/keep", true, false, "/srv/cache"},
		{"/srv/cache/keep/build", true, false, "/srv/cache"},
		{"/srv/cache/half", false, false, "/srv/cache"}, // X keeps the directory, not its contents
		{"/var/cache/app/go", false, false, "/var/cache/app"},
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
