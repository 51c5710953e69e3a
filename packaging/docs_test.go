package packaging

import (
	gobuild "go/build"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The documents a reader of the repository follows: every relative link
// among them must reach a file of the repository (and a heading of it,
// for a #fragment), never a path outside it.
var docFiles = []string{"README.md", "CONTRIBUTING.md", "docs/design.md", "docs/security.md"}

// docText reads a file of the repository.
func docText(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
	slugDrop  = regexp.MustCompile(`[^a-z0-9 _-]`)
)

// anchors returns the GitHub fragment of every heading of a markdown text.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(md, -1) {
		s := slugDrop.ReplaceAllString(strings.ToLower(m[1]), "")
		out[strings.ReplaceAll(s, " ", "-")] = true
	}
	return out
}

func TestDocsLinksResolve(t *testing.T) {
	for _, doc := range docFiles {
		text := docText(t, doc)
		if strings.Contains(text, "shared/DESIGN.md") {
			t.Errorf("%s points to the design outside the repository (shared/DESIGN.md); link docs/design.md", doc)
		}
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(link, "#")
			target := doc
			if file != "" {
				target = filepath.Join(filepath.Dir(doc), file)
			}
			if rel, err := filepath.Rel(".", target); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s: link %s leaves the repository", doc, link)
				continue
			}
			body, err := os.ReadFile(filepath.Join("..", target))
			if err != nil {
				t.Errorf("%s: link %s: %v", doc, link, err)
				continue
			}
			if frag != "" && !anchors(string(body))[frag] {
				t.Errorf("%s: link %s: %s has no heading #%s", doc, link, target, frag)
			}
		}
	}
}

// TestDocsTestCommand: the README's two set-up commands stay as they are,
// and CI runs the README's test command, not a command of its own.
func TestDocsTestCommand(t *testing.T) {
	readme := docText(t, "README.md")
	for _, line := range []string{"go run ./cmd/gomaint audit ", "sudo ./test.sh "} {
		if !strings.Contains(readme, "\n"+line) {
			t.Errorf("README.md lost its set-up command %q", strings.TrimSpace(line))
		}
	}
	var cmds []string
	for _, line := range strings.Split(docText(t, ".ci/run"), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "set ") && !strings.HasPrefix(line, "cd ") {
			cmds = append(cmds, line)
		}
	}
	if len(cmds) != 1 || cmds[0] != "./test.sh" {
		t.Errorf(".ci/run runs %q; it must run ./test.sh, the README's test command, and nothing else", cmds)
	}
}

// TestDesignMapsEveryPackage: docs/design.md's package map names every
// package with code under maint/ and cmd/, so that a newcomer finds each.
func TestDesignMapsEveryPackage(t *testing.T) {
	design := docText(t, "docs/design.md")
	for _, top := range []string{"maint", "cmd"} {
		dirs, err := os.ReadDir(filepath.Join("..", top))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dirs {
			if !d.IsDir() {
				continue
			}
			code, _ := filepath.Glob(filepath.Join("..", top, d.Name(), "*.go"))
			nonTest := 0
			for _, f := range code {
				if !strings.HasSuffix(f, "_test.go") {
					nonTest++
				}
			}
			if pkg := top + "/" + d.Name(); nonTest > 0 && !strings.Contains(design, "| `"+pkg+"` |") {
				t.Errorf("docs/design.md's package map has no row for %s: add one line on what it holds", pkg)
			}
		}
	}
}

// TestDesignLayers: the picture of layers in docs/design.md is the import
// graph: every package under maint/ and cmd/ (but maint/testenv) is on one
// of its lines, and imports only packages on lines below its own.
func TestDesignLayers(t *testing.T) {
	design := docText(t, "docs/design.md")
	_, after, _ := strings.Cut(design, "## Layers\n")
	_, picture, _ := strings.Cut(after, "```\n")
	picture, _, _ = strings.Cut(picture, "```")
	line := map[string]int{} // package -> line of the picture, 0 at the top
	pkgRef := regexp.MustCompile(`\b(?:maint|cmd)/[a-z0-9-]+`)
	for i, l := range strings.Split(picture, "\n") {
		for _, p := range pkgRef.FindAllString(l, -1) {
			if _, dup := line[p]; !dup {
				line[p] = i
			}
		}
	}
	const module = "github.com/gomaint/gomaint/"
	for _, top := range []string{"maint", "cmd"} {
		dirs, err := os.ReadDir(filepath.Join("..", top))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dirs {
			pkg := top + "/" + d.Name()
			if !d.IsDir() || pkg == "maint/testenv" {
				continue
			}
			bp, err := gobuild.ImportDir(filepath.Join("..", pkg), 0)
			if err != nil {
				continue // no Go code (or only tests)
			}
			at, ok := line[pkg]
			if !ok {
				t.Errorf("docs/design.md's picture of layers does not show %s: put it on the line above everything it imports", pkg)
				continue
			}
			for _, imp := range bp.Imports {
				dep, internal := strings.CutPrefix(imp, module)
				if !internal {
					continue
				}
				if depAt, ok := line[dep]; ok && depAt <= at {
					t.Errorf("%s imports %s, which docs/design.md's layers show on the same line or above it", pkg, dep)
				}
			}
		}
	}
}
