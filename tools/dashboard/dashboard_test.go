package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The committed JSON is what the generator makes, byte for byte: the
// packages install the committed file, the tests read it.
func TestCommittedDashboardIsGenerated(t *testing.T) {
	want, err := render()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatalf("%v; run go generate in tools/dashboard", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < len(g) || i < len(w); i++ {
		if i >= len(g) || i >= len(w) || !bytes.Equal(g[i], w[i]) {
			t.Fatalf("%s differs from the generator's output from line %d (committed %q, generated %q); run go generate in tools/dashboard",
				dashboardFile, i+1, line(g, i), line(w, i))
		}
	}
}

func line(lines [][]byte, i int) string {
	if i < len(lines) {
		return string(lines[i])
	}
	return "(end of file)"
}

// The README's table of panels is the dashboard's: each panel's title and
// the question it answers (its description), in order, and no other.
func TestReadmeListsPanels(t *testing.T) {
	var d struct {
		Panels []struct{ Type, Title, Description string }
	}
	readDashboard(t, &d)
	var want []string
	for _, p := range d.Panels {
		if p.Type != "row" {
			want = append(want, "| "+p.Title+" | "+p.Description+" |")
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Dashboards and alerts\n")
	if !ok {
		t.Fatal("README.md has no section \"Dashboards and alerts\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, table, ok := strings.Cut(section, "| panel | the question it answers |\n| --- | --- |\n")
	if !ok {
		t.Fatal("README.md, \"Dashboards and alerts\": no table | panel | the question it answers |")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	if got := strings.Split(strings.TrimSpace(table), "\n"); !slices.Equal(got, want) {
		t.Errorf("README.md's table of panels:\n%s\nwant, from %s:\n%s", strings.Join(got, "\n"), dashboardFile, strings.Join(want, "\n"))
	}
}
