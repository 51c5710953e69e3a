package goroot

import (
	"testing"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
)

// TestConfigured: an override beats the configuration, which beats
// $GOROOT, which beats `go env`; go is asked only when nothing else names
// a path, and only its own answer (not computed defaults) counts.
func TestConfigured(t *testing.T) {
	asked := 0
	goEnv := func(src string) func() discover.Env {
		return func() discover.Env { asked++; return discover.Env{Source: src, GOROOT: "/from/go"} }
	}
	cfg := config.GOROOT{Path: "/etc/path", ExpectVersion: "go1.21"}
	for _, c := range []struct {
		name         string
		cfg          config.GOROOT
		path, expect string
		environ      []string
		src          string
		want         Request
		asks         int
	}{
		{"override", cfg, "/flag", "go1.23", []string{"GOROOT=/env"}, "go env", Request{Path: "/flag", ExpectVersion: "go1.23", EnvGOROOT: "/env"}, 0},
		{"config", cfg, "", "", []string{"GOROOT=/env"}, "go env", Request{Path: "/etc/path", ExpectVersion: "go1.21", EnvGOROOT: "/env"}, 0},
		{"environment", config.GOROOT{}, "", "", []string{"GOROOT=/env"}, "go env", Request{EnvGOROOT: "/env"}, 0},
		{"go env", config.GOROOT{}, "", "", nil, "go env", Request{GoEnvGOROOT: "/from/go"}, 1},
		{"no go", config.GOROOT{}, "", "", nil, "defaults", Request{}, 1},
	} {
		asked = 0
		if got := Configured(c.cfg, c.path, c.expect, c.environ, goEnv(c.src)); got != c.want || asked != c.asks {
			t.Errorf("%s: %+v (go asked %d times), want %+v (%d)", c.name, got, asked, c.want, c.asks)
		}
	}
}
