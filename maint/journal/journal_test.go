package journal

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

const catalog = "../../units/gomaint.catalog"

// catalogIDs reads the "-- <id>" headers of the catalog.
func catalogIDs(t *testing.T) map[string]bool {
	f, err := os.Open(catalog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "-- "); ok {
			if ids[id] {
				t.Errorf("catalog lists %s twice", id)
			}
			ids[id] = true
		}
	}
	return ids
}

// TestCatalogInstalls: the real journalctl compiles the catalog into its
// database and lists every entry. (TestCatalogMatchesTypes, in packaging,
// which sees every finding code, matches the entries to the types.)
func TestCatalogInstalls(t *testing.T) {
	testenv.Command(t, "journalctl")
	root := t.TempDir()
	dir := filepath.Join(root, "usr/lib/systemd/catalog")
	os.MkdirAll(dir, 0o755)
	os.MkdirAll(filepath.Join(root, "var/lib/systemd/catalog"), 0o755)
	data, _ := os.ReadFile(catalog)
	os.WriteFile(filepath.Join(dir, "gomaint.catalog"), data, 0o644)
	if out, err := exec.Command("journalctl", "--root="+root, "--update-catalog").CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("journalctl --update-catalog: %v\n%s", err, out)
	}
	out, err := exec.Command("journalctl", "--root="+root, "--list-catalog").Output()
	if err != nil {
		t.Fatal(err)
	}
	for id := range catalogIDs(t) {
		if !bytes.Contains(out, []byte(id+" gomaint: ")) {
			t.Errorf("journalctl does not list %s", id)
		}
	}
}

func TestEmitAddsFields(t *testing.T) {
	var m Memory
	if err := Emit(&m, Event{Type: Audit, Priority: Info, Message: "m", Fields: map[string]string{"GOMAINT_TARGET": "build"}}); err != nil {
		t.Fatal(err)
	}
	f := m.Snapshot()[0].Fields
	for k, want := range map[string]string{"MESSAGE_ID": Audit.ID, "SYSLOG_IDENTIFIER": "gomaint", "GOMAINT_EVENT": "audit", "GOMAINT_TARGET": "build", "CODE_FILE": "journal_test.go"} {
		if f[k] != want {
			t.Errorf("%s = %q, want %q", k, f[k], want)
		}
	}
	if f["CODE_LINE"] == "" || !strings.HasSuffix(f["CODE_FUNC"], "TestEmitAddsFields") {
		t.Errorf("code location: %v", f)
	}
}

func TestEmitRejectsBadFieldNames(t *testing.T) {
	for _, name := range []string{"gomaint_lower", "_TRUSTED", "1DIGIT", "HAS-DASH", "MESSAGE", strings.Repeat("A", 65)} {
		var m Memory
		if err := Emit(&m, Event{Type: Audit, Fields: map[string]string{name: "x"}}); err == nil || len(m.Events) > 0 {
			t.Errorf("field %q accepted", name)
		}
	}
}

// aFinding is a finding code's event type: the lines name only the event.
var aFinding = Type{Event: "finding"}

func TestLines(t *testing.T) {
	var b bytes.Buffer
	Emit(&Lines{W: &b}, Event{Type: aFinding, Priority: Warning, Message: "OVER_LIMIT: big",
		Fields: map[string]string{"GOMAINT_TARGET": "build", "GOMAINT_BYTES": "12"}})
	want := `gomaint: warning: finding: OVER_LIMIT: big BYTES="12" TARGET="build"` + "\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestLinesEscapeNames: entry names come from users; in the stderr format
// a name with a newline must not forge a second event line, and one with
// terminal escapes must not reach the terminal raw (issue 13 item 10).
func TestLinesEscapeNames(t *testing.T) {
	forged := "zz\ngomaint: error: goroot: GOROOT_MISSING forged"
	var b bytes.Buffer
	Emit(&Lines{W: &b}, Event{Type: aFinding, Priority: Warning, Message: "UNEXPECTED_ENTRY: " + forged,
		Fields: map[string]string{"GOMAINT_PATH": "/c/\x1b[2J" + forged}})
	want := `gomaint: warning: finding: UNEXPECTED_ENTRY: zz\ngomaint: error: goroot: GOROOT_MISSING forged` +
		` PATH="/c/\x1b[2Jzz\ngomaint: error: goroot: GOROOT_MISSING forged"` + "\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}
