package layout

import (
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
