// What a package holds: the repository files it copies, the generated
// files, and the static binary; shared by the .deb and .rpm tests.

package packaging

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// shipped maps each installed file that is a copy of a repository file to
// that file (relative to the repository root), in both formats.
var shipped = map[string]string{
	"/usr/lib/systemd/system/gomaint.service":                       "units/gomaint.service",
	"/usr/lib/systemd/system/gomaint-clean.service":                 "units/gomaint-clean.service",
	"/usr/lib/systemd/system/gomaint-clean.timer":                   "units/gomaint-clean.timer",
	"/usr/lib/systemd/system/gomaint-alert.service":                 "units/gomaint-alert.service",
	"/usr/lib/systemd/system/gomaint-alert.path":                    "units/gomaint-alert.path",
	"/usr/lib/systemd/system/gomaint-alert.timer":                   "units/gomaint-alert.timer",
	"/usr/lib/systemd/user/gomaint.service":                         "units/user/gomaint.service",
	"/usr/lib/systemd/user/gomaint-alert.service":                   "units/user/gomaint-alert.service",
	"/usr/lib/systemd/user/gomaint-alert.path":                      "units/user/gomaint-alert.path",
	"/usr/lib/systemd/user/gomaint-alert.timer":                     "units/user/gomaint-alert.timer",
	"/usr/lib/systemd/user/gomaint-clean.service":                   "units/user/gomaint-clean.service",
	"/usr/lib/systemd/user/gomaint-clean.timer":                     "units/user/gomaint-clean.timer",
	"/usr/lib/tmpfiles.d/gomaint.conf":                              "units/tmpfiles.d/gomaint.conf",
	"/usr/lib/sysusers.d/gomaint.conf":                              "units/sysusers.d/gomaint.conf",
	"/usr/lib/systemd/catalog/gomaint.catalog":                      "units/gomaint.catalog",
	"/usr/share/gomaint/profile.d/gomaint-shared-cache.sh":          "units/profile.d/gomaint-shared-cache.sh",
	"/usr/share/gomaint/environment.d/60-gomaint-shared-cache.conf": "units/environment.d/60-gomaint-shared-cache.conf",
	"/usr/share/gomaint/grafana/gomaint.json":                       "packaging/grafana/gomaint.json",
	"/usr/share/gomaint/prometheus/gomaint.rules.yml":               "packaging/prometheus/gomaint.rules.yml",
	"/etc/gomaint/gomaint.toml":                                     "packaging/gomaint.toml",
	"/usr/share/bash-completion/completions/gomaint":                "packaging/completion/gomaint.bash",
	"/usr/share/doc/gomaint/README.md":                              "README.md",
}

// Files of one format only, also copies of repository files.
var shippedDeb = map[string]string{
	"/usr/share/doc/gomaint/copyright":     "packaging/copyright",
	"/usr/share/lintian/overrides/gomaint": "packaging/lintian-overrides",
}
var shippedRPM = map[string]string{
	"/usr/share/licenses/gomaint/copyright":            "packaging/copyright",
	"/usr/lib/systemd/system-preset/80-gomaint.preset": "packaging/gomaint.preset",
}

// extractDeb unpacks a .deb's files into a new directory.
func extractDeb(t *testing.T, deb string) string {
	t.Helper()
	root := t.TempDir()
	must(t, "dpkg-deb", "-x", deb, root)
	return root
}

// extractRPM unpacks an .rpm's files into a new directory. nfpm stores
// absolute names in the cpio payload: without --no-absolute-filenames,
// cpio run as root would write them over the real /usr and /etc.
func extractRPM(t *testing.T, rpm string) string {
	t.Helper()
	testenv.Command(t, "rpm2cpio")
	testenv.Command(t, "cpio")
	root := t.TempDir()
	_, stderr, err := run(nil, root, "sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet --no-absolute-filenames`, "sh", rpm)
	if err != nil {
		t.Fatalf("unpack %s: %v\n%s", rpm, err, stderr)
	}
	return root
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// Debian wants gzip -n: no name, no time stamp.
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("%s: gzip header keeps name %q / time %v", path, zr.Name, zr.ModTime)
	}
	return b
}

// checkTree compares an unpacked package with the repository and checks
// the generated files.
func checkTree(t *testing.T, root, arch string, only map[string]string) {
	t.Helper()
	for dst, src := range merge(shipped, only) {
		got, err := os.ReadFile(filepath.Join(root, dst))
		if err != nil {
			t.Errorf("%s: %v", dst, err)
			continue
		}
		if !bytes.Equal(got, repoFile(t, src)) {
			t.Errorf("%s differs from %s", dst, src)
		}
	}
	if got := gunzip(t, filepath.Join(root, "usr/share/man/man8/gomaint.8.gz")); !bytes.Equal(got, repoFile(t, "packaging/gomaint.8")) {
		t.Errorf("gomaint.8.gz is not packaging/gomaint.8")
	}
	bin := filepath.Join(root, "usr/bin/gomaint")
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("/usr/bin/gomaint mode %v", st.Mode())
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if f.Machine != want {
		t.Errorf("/usr/bin/gomaint is for %v, want %v", f.Machine, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("/usr/bin/gomaint has an interpreter: not static")
		}
	}
	if f.Section(".symtab") != nil {
		t.Errorf("/usr/bin/gomaint keeps its symbol table: not built with -s")
	}
}

func merge(a, b map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
