// The build tools live in their own modules, tools/go.mod (nfpm) and
// tools/dashboard/go.mod (the dashboard's generator and tests), so that
// whoever imports or audits gomaint sees only what the binary uses.

package packaging

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

func TestProductModuleHasNoBuildTools(t *testing.T) {
	testenv.Command(t, "go")
	// The product's module graph, as `go list -m all` shows it to an auditor.
	out, stderr, err := run(nil, "..", "go", "list", "-m", "all")
	if err != nil {
		t.Fatalf("go list -m all: %v\n%s", err, stderr)
	}
	for mod, home := range map[string]string{
		"goreleaser/nfpm":                  "tools/go.mod",
		"grafana/grafana-foundation-sdk":   "tools/dashboard/go.mod",
		"github.com/prometheus/prometheus": "tools/dashboard/go.mod",
	} {
		if strings.Contains(out, mod) {
			t.Errorf("gomaint's go.mod pulls in %s: build and test tools belong in %s\n%s", mod, home, out)
		}
	}
	if tools := modTools(t, "../go.mod"); len(tools) != 0 {
		t.Errorf("gomaint's go.mod has tool directives %q: they belong in tools/go.mod", tools)
	}
	// build.sh runs nfpm from the tools module.
	if tools := modTools(t, "../tools/go.mod"); !slices.Contains(tools, "github.com/goreleaser/nfpm/v2/cmd/nfpm") {
		t.Errorf("tools/go.mod pins the tools %q, not nfpm", tools)
	}
}

// modTools returns the tool directives of a go.mod file.
func modTools(t *testing.T, gomod string) []string {
	t.Helper()
	var mod struct{ Tool []struct{ Path string } }
	if err := json.Unmarshal([]byte(must(t, "go", "mod", "edit", "-json", gomod)), &mod); err != nil {
		t.Fatalf("go mod edit -json %s: %v", gomod, err)
	}
	var paths []string
	for _, tool := range mod.Tool {
		paths = append(paths, tool.Path)
	}
	return paths
}
