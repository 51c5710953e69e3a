// The -verify mode's module cache: real public modules, filled by go mod
// download as a developer's would be.

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// verifyMods are pinned, so that every run verifies the same bytes: about
// 30 MB extracted, and their zips. verifyQuickMods download in seconds.
var (
	verifyMods = []string{
		"golang.org/x/sys@v0.30.0", "golang.org/x/net@v0.35.0", "golang.org/x/crypto@v0.33.0",
		"github.com/prometheus/client_golang@v1.21.0", "go.uber.org/zap@v1.27.0",
		"github.com/spf13/cobra@v1.9.1", "github.com/stretchr/testify@v1.10.0",
		"github.com/google/go-cmp@v0.7.0", "gopkg.in/yaml.v3@v3.0.1",
		"github.com/BurntSushi/toml@v1.4.0", "github.com/google/uuid@v1.6.0",
	}
	verifyQuickMods = []string{"github.com/google/uuid@v1.6.0", "gopkg.in/yaml.v3@v3.0.1"}
)

// verifyExtra is the one version added before the incremental run.
const verifyExtra = "github.com/pkg/errors@v0.9.1"

// modSource returns a GOPROXY serving mods and verifyExtra from a module
// cache kept across runs in the user's cache directory: the network (and
// the checksum database) is asked only the first time.
func modSource(ctx context.Context, goCmd, work string, mods []string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("where to keep downloaded modules: %w", err)
	}
	src := filepath.Join(base, "gomaint-bench", "modsrc")
	start := time.Now()
	// go mod download in a main module also fetches the go.mod files of
	// the module graph, which go mod verify reads later.
	if err := goModDownload(ctx, goCmd, filepath.Join(work, "fill"), src, "", slices.Concat(mods, []string{verifyExtra})); err != nil {
		return "", fmt.Errorf("filling %s: %w", src, err)
	}
	fmt.Printf("module source %s ready in %.1fs\n", src, time.Since(start).Seconds())
	return "file://" + filepath.Join(src, "cache", "download"), nil
}

// goModDownload writes a main module in dir requiring mods and runs go mod
// download there into modcache, from proxy ("": the user's own).
func goModDownload(ctx context.Context, goCmd, dir, modcache, proxy string, mods []string) error {
	var gomod strings.Builder
	gomod.WriteString("module example.com/verifybench\n\ngo 1.22\n\nrequire (\n")
	for _, m := range mods {
		path, version, _ := strings.Cut(m, "@")
		fmt.Fprintf(&gomod, "\t%s %s\n", path, version)
	}
	gomod.WriteString(")\n")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod.String()), 0o644); err != nil {
		return err
	}
	return goRun(ctx, goCmd, dir, modcache, proxy, "mod", "download")
}

// goRun runs go in dir on modcache; a proxy of our own needs no checksum
// database, as the source was checked against it when it was filled.
func goRun(ctx context.Context, goCmd, dir, modcache, proxy string, args ...string) error {
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), goEnv(modcache)...)
	if proxy != "" {
		cmd.Env = append(cmd.Env, "GOPROXY="+proxy, "GOSUMDB=off")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return nil
}

// goEnv is what every go command here runs with: this module cache, this
// toolchain, no workspace, and go.mod as written.
func goEnv(modcache string) []string {
	return []string{"GOMODCACHE=" + modcache, "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off"}
}
