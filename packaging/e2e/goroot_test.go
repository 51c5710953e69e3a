//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/testenv"
)

// Debian 12's Go, as golang-go installs it.
const (
	debianGOROOT = "/usr/lib/go-1.19"
	debianGoPkg  = "golang-1.19-go"
	// changedFile is reached through GOROOT's src link into
	// /usr/share/go-1.19, which dpkg lists and gomaint follows.
	changedFile = "src/fmt/print.go"
)

// TestDebianGOROOT installs the package and Debian's golang-go, then has
// the packaged gomaint verify Debian's GOROOT against dpkg's md5sums
// (issue 19): no finding as installed; GOROOT_MODIFIED naming the file,
// in the output and the journal, once one file is changed. It boots its
// own container, so it runs alone:
//
//	go test -tags e2e -count=1 -run TestDebianGOROOT -timeout 15m ./packaging/e2e/
func TestDebianGOROOT(t *testing.T) {
	testenv.Root(t)
	for _, cmd := range []string{"systemd-nspawn", "nsenter", "tar", "go", "apt-get"} {
		testenv.Command(t, cmd)
	}
	dist := testenv.Dir(t)
	deb, err := buildPackage(repoRoot(t), dist, "deb", version1)
	if err != nil {
		t.Fatal(err)
	}
	// Debian's Go, fetched by the host's apt (the container has no package
	// lists): golang-go and the packages it needs that minbase lacks.
	start := time.Now()
	testenv.Run(t, os.Environ(), dist, "apt-get", "download", "golang-go", "golang-src", debianGoPkg, "golang-1.19-src")
	t.Logf("phase apt-get download: %v", time.Since(start).Round(100*time.Millisecond))
	c := boot(t, rootfsTarball(t, baseSuite), nil, nil)
	debs, _ := filepath.Glob(filepath.Join(dist, "*.deb"))
	c.put(t, debs...)
	start = time.Now()
	if out, code, err := c.exec(3*time.Minute, "sh", "-c", "dpkg -i /root/e2e/*.deb"); code != 0 || err != nil {
		t.Fatalf("dpkg -i %s and Debian's Go: exit %d %v\n%s", filepath.Base(deb), code, err, out)
	}
	t.Logf("phase dpkg -i (gomaint, golang-go): %v", time.Since(start).Round(100*time.Millisecond))

	verify := []string{"gomaint", "check", "goroot", "--verify", "--goroot", debianGOROOT}
	out, code, err := c.exec(2*time.Minute, append(verify, "--json")...)
	var res struct{ Verify *goroot.Verification }
	if err != nil || code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Verify == nil {
		t.Fatalf("%s --json on Debian's GOROOT as installed: exit %d %v, want 0 and a verification:\n%s", shellQuote(verify), code, err, out)
	}
	if v := res.Verify; !v.Code.IsZero() || v.Baseline != goroot.BaselineDpkg || !slices.Contains(v.Packages, debianGoPkg) || v.Entries < 1000 {
		t.Errorf("Debian's GOROOT as installed: %s baseline of %v, %d entries, finding %q; want dpkg's md5sums of %s, thousands of entries, none",
			v.Baseline, v.Packages, v.Entries, v.Code, debianGoPkg)
	}

	c.sh(t, "printf '// changed\\n' >> "+debianGOROOT+"/"+changedFile)
	from := time.Now()
	out, code, err = c.exec(2*time.Minute, verify...)
	if err != nil || code != 1 || !strings.Contains(out, goroot.Modified.String()) || !strings.Contains(out, changedFile) {
		t.Errorf("%s after changing %s: exit %d %v, want 1 and GOROOT_MODIFIED naming it:\n%s", shellQuote(verify), changedFile, code, err, out)
	}
	id := goroot.Modified.Type().ID
	es := c.waitJournal(t, 5*time.Second, func(e entry) bool {
		return e["GOMAINT_FINDING"] == goroot.Modified.String() && strings.Contains(e["MESSAGE"], changedFile) &&
			e["GOMAINT_CHANGED"] == "1" && e["GOMAINT_BASELINE"] == goroot.BaselineDpkg && e["GOMAINT_GOROOT"] == debianGOROOT
	}, "MESSAGE_ID="+id, since(from))
	if len(es) != 1 {
		t.Errorf("want one GOROOT_MODIFIED event (MESSAGE_ID=%s) naming %s, one change, against dpkg's baseline; the journal has:\n%s",
			id, changedFile, entries(c.journal(t, "SYSLOG_IDENTIFIER=gomaint", since(from))))
	}
}
