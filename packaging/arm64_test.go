// The arm64 package's binary, run under qemu.

package packaging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestArm64UnderQemu runs the arm64 binary from the arm64 package.
func TestArm64UnderQemu(t *testing.T) {
	qemu := testenv.Command(t, "qemu-aarch64-static")
	root := extractRPM(t, packages(t)["rpm/arm64"])
	bin := filepath.Join(root, "usr/bin/gomaint")
	if out := must(t, qemu, bin, "version"); out != "gomaint "+testVersion+"\n" {
		t.Errorf("version: %q", out)
	}
	// A tiny build cache: README, one action entry (175 bytes), one output.
	dir := testenv.Dir(t)
	build := filepath.Join(dir, "gocache")
	hex := strings.Repeat("ab", 32)
	os.MkdirAll(filepath.Join(build, "ab"), 0o755)
	os.WriteFile(filepath.Join(build, "README"), []byte("This directory holds cached build artifacts from the Go build system.\n"), 0o644)
	os.WriteFile(filepath.Join(build, "ab", hex+"-a"), bytes.Repeat([]byte{'x'}, 175), 0o644)
	os.WriteFile(filepath.Join(build, "ab", hex+"-d"), []byte("output"), 0o644)
	conf := filepath.Join(dir, "gomaint.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf("[goroot]\nrequired = false\n\n[[target]]\nname = \"build\"\nkind = \"build\"\npath = %q\n", build)), 0o644)
	out, stderr, err := run(nil, "", qemu, bin, "audit", "--json", "--log", "none", "--config", conf)
	if err != nil {
		t.Fatalf("audit: %v\n%s%s", err, out, stderr)
	}
	var report struct {
		GOROOT struct{ Code, Reason string } `json:"goroot"`
		Caches []struct {
			Name          string
			ApparentBytes int64 `json:"apparent_bytes"`
			Files         int64
			Layout        map[string]int64
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("audit --json: %v\n%s", err, out)
	}
	if len(report.Caches) != 1 || report.Caches[0].Files != 3 || report.Caches[0].ApparentBytes != int64(70+175+6) ||
		report.Caches[0].Layout["actions"] != 1 || report.Caches[0].Layout["outputs"] != 1 {
		t.Errorf("audit of the tiny cache: %+v", report.Caches)
	}
	// The GOROOT here holds an amd64 go: the binary knows it is arm64.
	if runtime.GOARCH == "amd64" && (report.GOROOT.Code != "" && !strings.Contains(report.GOROOT.Reason, "arm64")) {
		t.Errorf("goroot: %+v", report.GOROOT)
	}
}
