package layout

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/scan"
)

var hex64 = strings.Repeat("ab", 32)

func TestBuildEntries(t *testing.T) {
	for _, tc := range []struct {
		class scan.Class
		name  string
		dir   bool
		kind  Kind
	}{
		{Root, "3f", true, Other}, {Root, "trim.txt", false, Other}, {Root, "README", false, Other},
		{Root, "fuzz", true, Other}, {Root, "notes", false, Surprise}, {Root, "3F", true, Surprise}, {Root, "3f", false, Surprise},
		{Shard, hex64 + "-a", false, ActionEntry}, {Shard, hex64 + "-d", false, OutputEntry}, {Shard, hex64 + "-d", true, ExecEntry},
		{Shard, hex64 + "-a", true, Surprise}, {Shard, hex64 + "-x", false, Surprise}, {Shard, "foo", false, Surprise},
		{ExecDir, "prog", false, Other}, {ExecDir, "sub", true, Surprise},
	} {
		k, _ := Entry(&scan.Dir{Class: tc.class}, []byte(tc.name), tc.dir, true)
		if k != tc.kind {
			t.Errorf("build %d/%s (dir=%v): kind %d, want %d", tc.class, tc.name, tc.dir, k, tc.kind)
		}
	}
}

func TestModEntries(t *testing.T) {
	for _, tc := range []struct {
		class scan.Class
		path  string
		name  string
		dir   bool
		kind  Kind
	}{
		{Root, "", "cache", true, Other}, {Root, "", "github.com", true, Other}, {Root, "", "stray.txt", false, Surprise},
		{ModPath, "github.com/google", "uuid@v1.6.0", true, VersionDir},
		{ModPath, "github.com/google", "uuid@v1.6.0.tmp-42", true, Transient},
		{ModPath, "golang.org", "toolchain@v0.0.1-go1.22.0.linux-amd64", true, ToolchainDir},
		{ModCache, "cache", "lock", false, Other}, {ModCache, "cache", "junk", false, Surprise},
		{AtV, "cache/download/x/@v", "v1.0.0.mod", false, ModFile}, {AtV, "cache/download/x/@v", "list", false, Other},
		{AtV, "cache/download/x/@v", "v1.0.0.zip123.tmp", false, Transient}, {AtV, "cache/download/x/@v", "odd", false, Surprise},
		{VCS, "cache/vcs", "0123abcd", true, VCSDir},
	} {
		k, _ := Entry(&scan.Dir{Class: tc.class, Path: tc.path}, []byte(tc.name), tc.dir, false)
		if k != tc.kind {
			t.Errorf("mod %s/%s (dir=%v): kind %d, want %d", tc.path, tc.name, tc.dir, k, tc.kind)
		}
	}
}

// TestToolchainFilesAgree: in the toolchain's @v directory, a file counts
// toward a toolchain exactly when the classifier makes it a version's file
// (not list or list.lock, which go writes when it lists versions, and not
// an in-flight .tmp), so no "toolchain@list" is ever reported stale.
func TestToolchainFilesAgree(t *testing.T) {
	const atV = "cache/download/golang.org/toolchain/@v"
	v := "v0.0.1-go1.22.0.linux-amd64"
	for _, n := range []string{"list", "list.lock", v + ".info", v + ".mod", v + ".zip", v + ".ziphash", v + ".lock",
		v + ".partial", v + ".zip123.tmp", "odd", ".lock", ".mod"} {
		k, _ := Entry(&scan.Dir{Class: AtV, Path: atV}, []byte(n), false, false)
		versionFile := k == ModFile || (k == Other && n != "list" && n != "list.lock")
		tc, ok := ToolchainName(atV, []byte(n), AtV)
		if ok != versionFile {
			t.Errorf("%q: classified kind %d, but ToolchainName = %q, %v", n, k, tc, ok)
		}
		if ok && tc != "toolchain@"+v {
			t.Errorf("%q belongs to %q", n, tc)
		}
	}
}

func TestShardName(t *testing.T) {
	for i := range 256 {
		if got, want := ShardName(i), fmt.Sprintf("%02x", i); got != want {
			t.Errorf("ShardName(%d) = %q; want %q", i, got, want)
		}
	}
}
