// The .deb: control fields, contents and maintainer scripts.

package packaging

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

func TestDeb(t *testing.T) {
	testenv.Command(t, "dpkg-deb")
	paths := packages(t)
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			deb := paths["deb/"+arch]
			fields := map[string]string{
				"Package": "gomaint", "Version": testVersion, "Architecture": arch,
				"Section": "devel", "Depends": "procps",
			}
			for k, want := range fields {
				if got := strings.TrimSpace(must(t, "dpkg-deb", "-f", deb, k)); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if m := must(t, "dpkg-deb", "-f", deb, "Maintainer"); !strings.Contains(m, "@") {
				t.Errorf("Maintainer %q", m)
			}
			if got := must(t, "dpkg-deb", "-I", deb, "conffiles"); got != "/etc/gomaint/gomaint.toml\n" {
				t.Errorf("conffiles: %q", got)
			}
			listing := must(t, "dpkg-deb", "-c", deb)
			for _, p := range append(keys(merge(shipped, shippedDeb)), "/usr/bin/gomaint", "/usr/share/man/man8/gomaint.8.gz", "/usr/share/doc/gomaint/changelog.gz") {
				if !strings.Contains(listing, " ."+p+"\n") {
					t.Errorf("dpkg-deb -c lists no %s", p)
				}
			}
			if !regexp.MustCompile(`(?m)^-rwxr-xr-x root/root .* \./usr/bin/gomaint$`).MatchString(listing) {
				t.Errorf("/usr/bin/gomaint is not root-owned 0755:\n%s", listing)
			}
			root := extractDeb(t, deb)
			checkTree(t, root, arch, shippedDeb)
			changelog := gunzip(t, filepath.Join(root, "usr/share/doc/gomaint/changelog.gz"))
			if !bytes.HasPrefix(changelog, []byte("gomaint ("+testVersion+") ")) {
				t.Errorf("changelog.gz starts %q", changelog[:min(len(changelog), 60)])
			}

			control := t.TempDir()
			must(t, "dpkg-deb", "-e", deb, control)
			for _, s := range []string{"postinst", "prerm", "postrm"} {
				p := filepath.Join(control, s)
				st, err := os.Stat(p)
				if err != nil {
					t.Error(err)
					continue
				}
				if st.Mode().Perm() != 0o755 {
					t.Errorf("%s mode %v", s, st.Mode())
				}
				got, _ := os.ReadFile(p)
				if !bytes.Equal(got, repoFile(t, "packaging/deb/"+s)) {
					t.Errorf("%s is not packaging/deb/%s", s, s)
				}
				must(t, "sh", "-n", p)
			}
		})
	}
}

// TestDebMaintainerScripts checks what each script does for each word
// dpkg passes; running them for real is the end-to-end test's job.
func TestDebMaintainerScripts(t *testing.T) {
	postinst := string(repoFile(t, "packaging/deb/postinst"))
	for _, want := range []string{
		"configure | abort-upgrade", "systemd-sysusers gomaint.conf", "systemd-tmpfiles --create gomaint.conf",
		"journalctl --update-catalog", "deb-systemd-helper --quiet was-enabled", `deb-systemd-helper enable "$unit"`,
		"systemctl --system daemon-reload", "action=restart", "action=start",
		`deb-systemd-invoke "$action" gomaint-clean.timer >/dev/null || true`,
		`deb-systemd-invoke "$action" gomaint.service >/dev/null || true`,
	} {
		if !strings.Contains(postinst, want) {
			t.Errorf("postinst lacks %q", want)
		}
	}
	prerm := string(repoFile(t, "packaging/deb/prerm"))
	if !strings.Contains(prerm, `[ "$1" = remove ]`) || !strings.Contains(prerm, "deb-systemd-invoke stop") || !strings.Contains(prerm, "systemctl reset-failed") {
		t.Errorf("prerm does not stop the units and reset failed ones on remove:\n%s", prerm)
	}
	postrm := string(repoFile(t, "packaging/deb/postrm"))
	for _, want := range []string{"deb-systemd-helper mask", "deb-systemd-helper purge", `[ "$1" = purge ]`, "rm -rf /var/lib/gomaint"} {
		if !strings.Contains(postrm, want) {
			t.Errorf("postrm lacks %q", want)
		}
	}
	// Caches are never a maintainer script's to remove.
	for name, s := range map[string]string{"postinst": postinst, "prerm": prerm, "postrm": postrm} {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, "rm ") && strings.Contains(line, "cache") && !strings.HasPrefix(strings.TrimSpace(line), "#") {
				t.Errorf("%s removes a cache: %s", name, line)
			}
			// lintian: start/stop/enable go through deb-systemd-*;
			// daemon-reload and reset-failed have no such wrapper.
			if regexp.MustCompile(`^\s*systemctl\b`).MatchString(line) && !strings.Contains(line, "daemon-reload") && !strings.Contains(line, "reset-failed") {
				t.Errorf("%s calls systemctl directly: %s", name, line)
			}
		}
	}
}
