package layout

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/scan"
)

// The names Go gives the build cache entries that a trim may remove,
// written independently of the classifier.
var (
	actionName = regexp.MustCompile(`^[0-9a-f]{64}-a$`)
	outputName = regexp.MustCompile(`^[0-9a-f]{64}-d$`)
)

// FuzzEntry: any directory entry name (a cache is a tree other users write)
// is classified without a panic, and only names of the shape Go writes are
// ever kinds that a clean removes (DESIGN.md, safety 4).
func FuzzEntry(f *testing.F) {
	f.Add(uint8(Shard), "", []byte(hex64+"-a"), false, true)
	f.Fuzz(func(t *testing.T, class uint8, dirPath string, name []byte, isDir, build bool) {
		if len(name) == 0 || bytes.ContainsAny(name, "/\x00") || string(name) == "." || string(name) == ".." {
			return // not a name getdents returns
		}
		c := scan.Class(class % (uint8(InFlightTmp) + 1))
		k, sub := Entry(&scan.Dir{Class: c, Path: dirPath}, name, isDir, build)
		n := string(name)
		if k == Surprise && sub != Unexpected {
			t.Errorf("%d/%q: a surprise whose entries are class %d, not Unexpected", c, n, sub)
		}
		if c == Unexpected && (k != Other || sub != Unexpected) {
			t.Errorf("%d/%q: inside an unexpected tree, got kind %d class %d", c, n, k, sub)
		}
		switch k {
		case ActionEntry:
			if !build || c != Shard || isDir || !actionName.MatchString(n) {
				t.Errorf("%q (class %d, dir %v, build %v) is an action entry", n, c, isDir, build)
			}
		case OutputEntry, ExecEntry:
			if !build || c != Shard || isDir != (k == ExecEntry) || !outputName.MatchString(n) {
				t.Errorf("%q (class %d, dir %v, build %v) is an output entry", n, c, isDir, build)
			}
		case VersionDir, ToolchainDir:
			if build || (c != Root && c != ModPath) || !isDir || !strings.Contains(n, "@") || strings.Contains(n, ".tmp-") {
				t.Errorf("%q (class %d, dir %v, build %v) is a module version", n, c, isDir, build)
			}
		case VCSDir:
			if build || c != VCS || !isDir {
				t.Errorf("%q (class %d, dir %v) is a VCS checkout", n, c, isDir)
			}
		}
		if RewrittenFile(c, name) && c != Root && c != ModCache && c != AtV && c != VCS {
			t.Errorf("%q in class %d is a rewritten file", n, c)
		}
		if tc, ok := ToolchainName(dirPath, name, c); ok && !strings.HasPrefix(tc, "toolchain@") {
			t.Errorf("ToolchainName(%q, %q) = %q", dirPath, n, tc)
		}
	})
}
