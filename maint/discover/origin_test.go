package discover

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestWhere: environment first (with the profile line that sets it), then
// the go env file, then GOROOT/go.env, then go's default.
func TestWhere(t *testing.T) {
	home := t.TempDir()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".config", "go"), 0o755)
	os.MkdirAll(filepath.Join(home, ".config", "environment.d"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "go", "env"), []byte("GOFLAGS=-x\nGOMODCACHE=/m\n"), 0o644)
	os.WriteFile(filepath.Join(home, ".config", "environment.d", "60-go.conf"), []byte("# go\nGOPATH=/p\n"), 0o644)
	os.WriteFile(filepath.Join(root, "go.env"), []byte("GOTOOLCHAIN=auto\n"), 0o644)
	env := []string{"HOME=" + home, "GOCACHE=/c", "GOPATH=/p"}
	ctx := context.Background()
	for key, want := range map[string]Origin{
		"GOCACHE":     {From: FromEnvironment},
		"GOPATH":      {From: FromEnvironment, File: filepath.Join(home, ".config", "environment.d", "60-go.conf"), Line: 2},
		"GOMODCACHE":  {From: FromGoEnvFile, File: filepath.Join(home, ".config", "go", "env"), Line: 2},
		"GOTOOLCHAIN": {From: FromGorootEnv, File: filepath.Join(root, "go.env"), Line: 1},
		"GOFLAGS":     {From: FromGoEnvFile, File: filepath.Join(home, ".config", "go", "env"), Line: 1},
		"GOPROXY":     {From: FromDefault},
	} {
		if got := Where(ctx, key, env, root); got != want {
			t.Errorf("%s: %+v, want %+v", key, got, want)
		}
	}
}

func TestUnitOfCgroup(t *testing.T) {
	for in, want := range map[string]struct {
		unit string
		user bool
	}{
		"0::/user.slice/user-1000.slice/user@1000.service/app.slice/gomaint.service\n": {"gomaint.service", true},
		"0::/system.slice/gomaint-clean.service\n":                                     {"gomaint-clean.service", false},
		"0::/user.slice/user-1000.slice/session-2.scope\n":                             {"session-2.scope", false},
		"12:cpu:/x\n": {},
	} {
		if u, user := UnitOfCgroup(in); u != want.unit || user != want.user {
			t.Errorf("%q: %q %v", in, u, user)
		}
	}
}
