package tmpfiles

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse: any --cat-config output (a tmpfiles.d file is hand-written)
// parses without a panic into rules that point back at their lines, and
// judging any path against them is safe and deterministic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(catConfig), "/var/tmp/gocache/x")
	f.Fuzz(func(t *testing.T, out []byte, p string) {
		spec := SystemSpecifiers()
		rules := Parse(out, spec)
		if again := Parse(out, spec); !reflect.DeepEqual(rules, again) {
			t.Fatalf("Parse is not deterministic: %+v then %+v", rules, again)
		}
		lines := bytes.Count(out, []byte("\n")) + 1
		for _, r := range rules {
			if len(r.Type) != 1 || !strings.Contains(ruleTypes, r.Type) {
				t.Errorf("rule %+v: type %q is not one systemd-tmpfiles reads", r, r.Type)
			}
			if r.Line < 1 || r.Line > lines {
				t.Errorf("rule %+v: line %d outside the %d lines of the input", r, r.Line, lines)
			}
			if r.File != "" && (!strings.HasPrefix(r.File, "/") || !strings.HasSuffix(r.File, ".conf")) {
				t.Errorf("rule %+v: file %q is not a .conf path", r, r.File)
			}
		}
		v := Judge(rules, p)
		if v.AtBoot && v.Cleaner == nil {
			t.Errorf("Judge(%q): at boot without a cleaner", p)
		}
		if v.Cleaner != nil && !reflect.DeepEqual(Judge(rules, p), v) {
			t.Errorf("Judge(%q) is not deterministic", p)
		}
	})
}
