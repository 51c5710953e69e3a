package discover

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzGoEnv: the output of `go env -json` and a go env file (GOENV or
// $GOROOT/go.env, which anyone with `go env -w` or an editor writes) are
// read without a panic, and a go env file means what it means to go:
// lines "KEY=VALUE" whose key starts with an upper-case letter, the value
// verbatim after the first '=', the last line of a key winning, anything
// else ignored (cmd/go/internal/cfg, readEnvFile).
func FuzzGoEnv(f *testing.F) {
	f.Add([]byte(`{"GOCACHE":"/c","GOROOT":"/usr/local/go"}`), []byte("GOTOOLCHAIN=auto\nGOFLAGS=-trimpath\n"))
	f.Fuzz(func(t *testing.T, jsonOut, envFile []byte) {
		if e, err := parseGoEnv(jsonOut); err == nil {
			var m map[string]any
			if json.Unmarshal(jsonOut, &m) == nil {
				if v, ok := m["GOCACHE"].(string); ok && v != e.GOCACHE {
					t.Errorf("GOCACHE %q read as %q", v, e.GOCACHE)
				}
			}
		}
		got := parseEnvFile(envFile)
		want := map[string]string{}
		for _, line := range strings.Split(string(envFile), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && k != "" && k[0] >= 'A' && k[0] <= 'Z' {
				want[k] = v
			}
		}
		if len(got) != len(want) {
			t.Errorf("%q: read %d keys %q, go reads %d %q", envFile, len(got), got, len(want), want)
		}
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("%q: %s is %q (set %v), go reads %q", envFile, k, g, ok, v)
			}
		}
	})
}
