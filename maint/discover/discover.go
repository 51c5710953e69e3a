// Package discover resolves the Go settings that decide where a user's caches
// live, exactly as the go command resolves them: the process environment
// first, then the user's go env file (GOENV), then $GOROOT/go.env.
//
// When a go command is available it is asked (`go env -json`, run from "/"
// with GOTOOLCHAIN=local so that no toolchain is switched to or downloaded).
// Without one the same defaults are computed natively.
package discover

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/paths"
)

// Env is what discovery found. Empty strings mean "not set and no default".
type Env struct {
	GOROOT      string `json:"GOROOT"`
	GOCACHE     string `json:"GOCACHE"`
	GOMODCACHE  string `json:"GOMODCACHE"`
	GOPATH      string `json:"GOPATH"`
	GOENV       string `json:"GOENV"`
	GOFLAGS     string `json:"GOFLAGS"`
	GOTOOLCHAIN string `json:"GOTOOLCHAIN"`
	// GoCmd is the go command that was asked, or "" when none was found.
	GoCmd string `json:"-"`
	// Source is "go env" or "defaults".
	Source string `json:"-"`
	// GoErr says why `go env` was not used, when it was not.
	GoErr error `json:"-"`
}

var queried = []string{"GOROOT", "GOCACHE", "GOMODCACHE", "GOPATH", "GOENV", "GOFLAGS", "GOTOOLCHAIN"}

// Getenv looks up a variable of the environment being resolved.
type Getenv func(string) string

// EnvFrom turns an environ slice into a Getenv.
func EnvFrom(environ []string) Getenv {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}

// Resolve finds the Go settings for the environment environ.
func Resolve(ctx context.Context, environ []string) Env {
	getenv := EnvFrom(environ)
	native := Native(getenv)
	gocmd := FindGo(getenv)
	if gocmd == "" {
		native.GoErr = errors.New("no go command: GOROOT is not set and go is not in PATH")
		return native
	}
	e, err := goEnv(ctx, gocmd, environ)
	if err != nil {
		native.GoCmd, native.GoErr = gocmd, err
		return native
	}
	// The query ran with GOTOOLCHAIN=local; report what the user set.
	e.GOTOOLCHAIN = native.GOTOOLCHAIN
	e.GoCmd, e.Source = gocmd, "go env"
	return e
}

// FindGo returns $GOROOT/bin/go when GOROOT is set, else go from PATH.
func FindGo(getenv Getenv) string {
	if r := getenv("GOROOT"); r != "" {
		p := filepath.Join(r, "bin", "go")
		if isExecutable(p) {
			return p
		}
		return ""
	}
	for _, dir := range filepath.SplitList(getenv("PATH")) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue // like exec.LookPath in a service: never the working directory
		}
		if p := filepath.Join(dir, "go"); isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func goEnv(ctx context.Context, gocmd string, environ []string) (Env, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gocmd, append([]string{"env", "-json"}, queried...)...)
	cmd.Dir = "/"
	cmd.Env = append(withoutKey(environ, "GOTOOLCHAIN"), "GOTOOLCHAIN=local")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Env{}, fmt.Errorf("%s env: %w: %s", gocmd, err, strings.TrimSpace(stderr.String()))
	}
	e, err := parseGoEnv(out)
	if err != nil {
		return Env{}, fmt.Errorf("%s env -json: %w", gocmd, err)
	}
	return e, nil
}

// parseGoEnv reads the output of `go env -json`.
func parseGoEnv(out []byte) (Env, error) {
	var e Env
	err := json.Unmarshal(out, &e)
	return e, err
}

func withoutKey(environ []string, key string) []string {
	out := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// Native computes the settings without a go command, the way go does.
func Native(getenv Getenv) Env {
	e := Env{Source: "defaults", GOROOT: getenv("GOROOT")}
	e.GOENV = getenv("GOENV")
	if e.GOENV == "" {
		if dir := paths.GoConfigHome(getenv); dir != "" {
			e.GOENV = filepath.Join(dir, "go", "env")
		}
	}
	files := []map[string]string{}
	if e.GOENV != "" && e.GOENV != "off" {
		files = append(files, readEnvFile(e.GOENV))
	}
	if e.GOROOT != "" {
		files = append(files, readEnvFile(filepath.Join(e.GOROOT, "go.env")))
	}
	lookup := func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		for _, f := range files {
			if v, ok := f[k]; ok {
				return v // go: a key of the user's file, even empty, hides go.env's
			}
		}
		return ""
	}
	e.GOFLAGS, e.GOTOOLCHAIN = lookup("GOFLAGS"), lookup("GOTOOLCHAIN")
	if e.GOCACHE = lookup("GOCACHE"); e.GOCACHE == "" {
		if dir := paths.GoCacheHome(getenv); dir != "" {
			e.GOCACHE = filepath.Join(dir, "go-build")
		}
	}
	if e.GOPATH = lookup("GOPATH"); e.GOPATH == "" {
		if h := getenv("HOME"); h != "" {
			e.GOPATH = filepath.Join(h, "go")
		}
	}
	if e.GOMODCACHE = lookup("GOMODCACHE"); e.GOMODCACHE == "" && e.GOPATH != "" {
		e.GOMODCACHE = filepath.Join(filepath.SplitList(e.GOPATH)[0], "pkg", "mod")
	}
	return e
}

// readEnvFile reads a go env file: KEY=VALUE lines; a missing file is empty.
func readEnvFile(path string) map[string]string {
	data, err := os.ReadFile(path)
	if err != nil {
		return map[string]string{}
	}
	return parseEnvFile(data)
}

// parseEnvFile reads a go env file the way go does (cmd/go/internal/cfg):
// a line is KEY=VALUE with KEY starting with an upper-case letter and the
// value verbatim, nothing trimmed; any other line is ignored, and a later
// line of a key wins.
func parseEnvFile(data []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" && k[0] >= 'A' && k[0] <= 'Z' {
			m[k] = v
		}
	}
	return m
}
