package tmpfiles

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestJudgeAgreesWithSystemdTmpfiles: the real systemd-tmpfiles --clean
// runs over a tree with old files; for every directory, Judge must say
// "protected" exactly when its file survived.
func TestJudgeAgreesWithSystemdTmpfiles(t *testing.T) {
	bin := testenv.Command(t, "systemd-tmpfiles")
	root := t.TempDir()
	conf := filepath.Join(t.TempDir(), "test.conf")
	lines := []string{
		"d ROOT/aged 0755 - - mM:1d",
		"d ROOT/aged/own 0755 - - -",          // a line of its own shields
		"z ROOT/aged/glob* 0755 - - -",        // so does a glob
		"x ROOT/aged/keep",                    // and x
		"X ROOT/aged/half",                    // and X, contents included
		"d ROOT/aged/mid/own2 0755 - - -",     // at any depth
		"d ROOT/aged/selfaged 0755 - - mM:1d", // its own age cleans it
		"e ROOT/other - - - mM:1d",
		// Quoting and escapes as tmpfiles.d(5) reads them (issue 13 item 2).
		`x "ROOT/aged/sp ace"`,          // a quoted space
		`x ROOT/aged/mid"dle q"uote`,    // quotes within a field
		`x "ROOT/aged/pc%%t"`,           // %% is a literal %
		`x ROOT/aged/esc\x41pe`,         // no C escape: escx41pe
		`x "ROOT/aged/st\\*r"`,          // fnmatch's \* is a literal *
		`d "ROOT/aged/lit*" 0755 - - -`, // d names one path: no glob
	}
	text := strings.ReplaceAll(strings.Join(lines, "\n")+"\n", "ROOT", root)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	dirs := []string{"aged/plain", "aged/own", "aged/own/sub", "aged/globz", "aged/keep", "aged/keep/sub", "aged/half",
		"aged/mid/own2", "aged/mid/plain", "aged/selfaged", "aged/selfaged/sub", "other/x", "elsewhere",
		"aged/sp ace", "aged/middle quote", "aged/pc%t", "aged/escx41pe", "aged/escApe", "aged/st*r", "aged/stXr", "aged/lit*", "aged/litX"}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, d, "file"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-30 * 24 * time.Hour)
	filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err == nil {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	if out, err := exec.Command(bin, "--clean", conf).CombinedOutput(); err != nil {
		t.Fatalf("systemd-tmpfiles --clean: %v\n%s", err, out)
	}
	rules := Parse([]byte("# /etc/tmpfiles.d/test.conf\n"+text), SystemSpecifiers())
	var kept, gone int
	for _, d := range dirs {
		_, err := os.Stat(filepath.Join(root, d, "file"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		survived := err == nil
		if survived {
			kept++
		} else {
			gone++
		}
		if v := Judge(rules, filepath.Join(root, d)); v.Protected() != survived {
			t.Errorf("%s: Judge says protected=%v (cleaner %v); systemd-tmpfiles %s its file", d, v.Protected(), v.Cleaner,
				map[bool]string{true: "kept", false: "removed"}[survived])
		}
	}
	if kept == 0 || gone == 0 {
		t.Errorf("%d kept, %d removed: the tree tests nothing", kept, gone)
	}
	t.Logf("%d directories kept, %d cleaned", kept, gone)
}
