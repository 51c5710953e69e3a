package config

import (
	"strings"
	"testing"
)

// TestMinFree: min_free takes a size, a percentage or "off"; left out it
// is 5% for a build cache and off for a module cache; a bad value names
// the file, line and key.
func TestMinFree(t *testing.T) {
	c, err := Parse(User, "/etc/g.toml", []byte(`[[target]]
name = "build"
kind = "build"
[[target]]
name = "mod"
kind = "mod"
[[target]]
name = "b2"
kind = "build"
min_free = "off"
[[target]]
name = "m2"
kind = "mod"
min_free = "2GiB"
[[target]]
name = "b3"
kind = "build"
min_free = "12.5%"
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Floor{{Percent: 5}, {}, {}, {Bytes: 2 << 30}, {Percent: 12.5}}
	for i, tg := range c.Targets {
		if tg.MinFree != want[i] {
			t.Errorf("%s: min_free %+v, want %+v", tg.Name, tg.MinFree, want[i])
		}
	}
	if d := Default(User); d.Targets[0].MinFree != (Floor{Percent: 5}) || !d.Targets[1].MinFree.Off() {
		t.Errorf("defaults: %+v %+v", d.Targets[0].MinFree, d.Targets[1].MinFree)
	}
	if f := (Floor{Percent: 5}); f.Of(1000) != 50 || f.String() != "5%" {
		t.Errorf("5%% of 1000: %d, %s", f.Of(1000), f)
	}
	for _, bad := range []string{`"101%"`, `"nan%"`, `"-1%"`, `"lots"`, `-5`, `true`} {
		_, err := Parse(User, "/etc/g.toml", []byte("[[target]]\nname = \"b\"\nkind = \"build\"\nmin_free = "+bad+"\n"))
		if err == nil || !strings.Contains(err.Error(), "/etc/g.toml:4: ") || !strings.Contains(err.Error(), "min_free: ") {
			t.Errorf("min_free = %s: %v", bad, err)
		}
	}
}
