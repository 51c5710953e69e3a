package paths

import "testing"

// env is a getenv over a fixed environment.
func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// TestSpecRule: an absolute variable wins; a relative or empty one falls
// back under HOME as the XDG spec says; without HOME there is no
// directory (never one relative to the working directory).
func TestSpecRule(t *testing.T) {
	for _, tc := range []struct {
		name, xdg, fallback string
		home                func(func(string) string) string
	}{
		{"config", "XDG_CONFIG_HOME", "/h/.config", ConfigHome},
		{"cache", "XDG_CACHE_HOME", "/h/.cache", CacheHome},
		{"state", "XDG_STATE_HOME", "/h/.local/state", StateHome},
	} {
		for _, c := range []struct {
			env  map[string]string
			want string
		}{
			{map[string]string{tc.xdg: "/x", "HOME": "/h"}, "/x"},
			{map[string]string{tc.xdg: "/x"}, "/x"},
			{map[string]string{tc.xdg: "rel", "HOME": "/h"}, tc.fallback},
			{map[string]string{tc.xdg: "", "HOME": "/h"}, tc.fallback},
			{map[string]string{"HOME": "/h"}, tc.fallback},
			{map[string]string{tc.xdg: "rel"}, ""},
			{map[string]string{}, ""},
		} {
			if got := tc.home(env(c.env)); got != c.want {
				t.Errorf("%s home with %v: %q, want %q", tc.name, c.env, got, c.want)
			}
		}
	}
}

// TestGoRule: go rejects a relative variable instead of falling back, so
// discover must find no GOCACHE or GOENV where go finds none.
func TestGoRule(t *testing.T) {
	for _, tc := range []struct {
		name, xdg, fallback string
		home                func(func(string) string) string
	}{
		{"config", "XDG_CONFIG_HOME", "/h/.config", GoConfigHome},
		{"cache", "XDG_CACHE_HOME", "/h/.cache", GoCacheHome},
	} {
		for _, c := range []struct {
			env  map[string]string
			want string
		}{
			{map[string]string{tc.xdg: "/x", "HOME": "/h"}, "/x"},
			{map[string]string{tc.xdg: "/x"}, "/x"},
			{map[string]string{tc.xdg: "rel", "HOME": "/h"}, ""},
			{map[string]string{tc.xdg: "", "HOME": "/h"}, tc.fallback},
			{map[string]string{"HOME": "/h"}, tc.fallback},
			{map[string]string{}, ""},
		} {
			if got := tc.home(env(c.env)); got != c.want {
				t.Errorf("go's %s home with %v: %q, want %q", tc.name, c.env, got, c.want)
			}
		}
	}
}

// TestRuntimeHome: XDG_RUNTIME_DIR has no fallback, and a relative one
// names nothing.
func TestRuntimeHome(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_RUNTIME_DIR": "/run/user/7", "HOME": "/h"}, "/run/user/7"},
		{map[string]string{"XDG_RUNTIME_DIR": "run", "HOME": "/h"}, ""},
		{map[string]string{"HOME": "/h"}, ""},
	} {
		if got := RuntimeHome(env(c.env)); got != c.want {
			t.Errorf("runtime home with %v: %q, want %q", c.env, got, c.want)
		}
	}
}
