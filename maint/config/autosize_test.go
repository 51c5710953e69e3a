package config

import "testing"

// TestDefaultBuildLimit: with no file, and for a [[target]] that leaves
// max_size out, every build cache gets max_size "auto" in both scopes;
// "0" is no limit, explicitly; module caches stay unlimited (issue 12.3).
func TestDefaultBuildLimit(t *testing.T) {
	for _, scope := range []Scope{User, System} {
		for _, tg := range Default(scope).Targets {
			want := Size(0)
			if tg.Kind == Build {
				want = AutoSize
			}
			if tg.MaxSize != want {
				t.Errorf("%s scope, target %s: max_size %d, want %d", scope, tg.Name, tg.MaxSize, want)
			}
		}
	}
	c, err := Parse(User, "f.toml", []byte(`
[[target]]
name = "b"
kind = "build"
[[target]]
name = "none"
kind = "build"
max_size = "0"
[[target]]
name = "fixed"
kind = "build"
max_size = "5GiB"
[[target]]
name = "m"
kind = "mod"
[[target]]
name = "mauto"
kind = "mod"
max_size = "auto"
`))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []Size{AutoSize, 0, 5 << 30, 0, AutoSize} {
		if got := c.Targets[i].MaxSize; got != want {
			t.Errorf("target %s: max_size %d, want %d", c.Targets[i].Name, got, want)
		}
	}
	if text, _ := AutoSize.MarshalText(); string(text) != "auto" {
		t.Errorf("AutoSize shows as %q", text)
	}
	// low_water below an automatic limit is the user's to choose.
	if _, err := Parse(User, "f.toml", []byte("[[target]]\nname = \"b\"\nkind = \"build\"\nlow_water = \"1GiB\"\n")); err != nil {
		t.Errorf("low_water with the automatic max_size: %v", err)
	}
}

func TestAutoLimit(t *testing.T) {
	for total, want := range map[int64]int64{
		20 << 30:  2 << 30, // a 20 GiB disk: 2 GiB
		200 << 20: 20 << 20,
		500 << 30: AutoCap, // capped
		0:         AutoCap, // unknown file system
	} {
		if got := AutoLimit(total); got != want {
			t.Errorf("AutoLimit(%d) = %d, want %d", total, got, want)
		}
	}
}
