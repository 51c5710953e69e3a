// The .rpm: header fields, contents and scriptlets.

package packaging

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

func TestRPM(t *testing.T) {
	testenv.Command(t, "rpm")
	paths := packages(t)
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			rpm := paths["rpm/"+arch]
			if got := must(t, "rpm", "-qp", "--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}", rpm); got != "gomaint "+testVersion+" 1 "+rpmArch[arch]+" Apache-2.0" {
				t.Errorf("header: %q", got)
			}
			if got := must(t, "rpm", "-qp", "--configfiles", rpm); got != "/etc/gomaint/gomaint.toml\n" {
				t.Errorf("--configfiles: %q", got)
			}
			files := map[string]string{} // path -> "flags mode"
			for _, line := range strings.Split(strings.TrimSpace(must(t, "rpm", "-qp", "--qf", `[%{FILENAMES}|%{FILEFLAGS:fflags}|%{FILEMODES:perms}|%{FILEUSERNAME}:%{FILEGROUPNAME}\n]`, rpm)), "\n") {
				f := strings.SplitN(line, "|", 2)
				files[f[0]] = f[1]
			}
			listed := must(t, "rpm", "-qp", "--list", rpm)
			for _, p := range append(keys(merge(shipped, shippedRPM)), "/usr/bin/gomaint", "/usr/share/man/man8/gomaint.8.gz", "/etc/gomaint", "/usr/share/gomaint/grafana", "/usr/share/gomaint/prometheus") {
				if !strings.Contains(listed, p+"\n") {
					t.Errorf("rpm --list lacks %s", p)
				}
			}
			for p, want := range map[string]string{
				"/etc/gomaint/gomaint.toml":             "cn|-rw-r--r--|root:root", // %config(noreplace)
				"/usr/bin/gomaint":                      "|-rwxr-xr-x|root:root",
				"/usr/share/man/man8/gomaint.8.gz":      "d|-rw-r--r--|root:root", // %doc
				"/usr/share/licenses/gomaint/copyright": "l|-rw-r--r--|root:root", // %license
				"/etc/gomaint":                          "|drwxr-xr-x|root:root",  // owned, so erase removes it
				"/usr/share/gomaint/grafana":            "|drwxr-xr-x|root:root",
				"/usr/share/gomaint/prometheus":         "|drwxr-xr-x|root:root",
			} {
				if files[p] != want {
					t.Errorf("%s: %q, want %q", p, files[p], want)
				}
			}
			scripts := must(t, "rpm", "-qp", "--scripts", rpm)
			for name, file := range map[string]string{"postinstall": "post", "preuninstall": "preun", "postuninstall": "postun"} {
				body := strings.TrimSpace(string(repoFile(t, "packaging/rpm/"+file)))
				if !strings.Contains(scripts, name+" scriptlet (using /bin/sh):\n"+body) {
					t.Errorf("%s scriptlet is not packaging/rpm/%s:\n%s", name, file, scripts)
				}
			}
			if out := must(t, "rpm", "-K", "--nosignature", rpm); !strings.HasSuffix(out, "digests OK\n") {
				t.Errorf("rpm -K: %s", out)
			}
			checkTree(t, extractRPM(t, rpm), arch, shippedRPM)
		})
	}
}

// TestRPMScriptlets checks the count logic of each scriptlet: rpm passes
// 1 on install, 2+ on upgrade, 0 on erase.
func TestRPMScriptlets(t *testing.T) {
	post := string(repoFile(t, "packaging/rpm/post"))
	preun := string(repoFile(t, "packaging/rpm/preun"))
	postun := string(repoFile(t, "packaging/rpm/postun"))
	for _, c := range []struct{ script, want string }{
		{post, `if [ "$1" -eq 1 ]; then`},
		{post, "systemctl --no-reload preset gomaint.service gomaint-clean.timer"},
		{post, "systemd-sysusers gomaint.conf"},
		{post, "systemd-tmpfiles --create gomaint.conf"},
		{preun, `if [ "$1" -eq 0 ]; then`},
		{preun, "systemctl --no-reload disable --now gomaint.service gomaint-clean.timer"},
		{preun, "systemctl reset-failed gomaint.service gomaint-clean.service gomaint-clean.timer"},
		{postun, `if [ "$1" -ge 1 ]; then`},
		{postun, "systemctl try-restart gomaint.service gomaint-clean.timer"},
		{postun, "rm -rf /var/lib/gomaint /run/gomaint"},
	} {
		if !strings.Contains(c.script, c.want) {
			t.Errorf("scriptlet lacks %q", c.want)
		}
	}
	for _, f := range []string{"post", "preun", "postun"} {
		must(t, "sh", "-n", filepath.Join("rpm", f))
	}
	preset := string(repoFile(t, "packaging/gomaint.preset"))
	for _, u := range []string{"enable gomaint.service", "enable gomaint-clean.timer", "enable gomaint-alert.path", "enable gomaint-alert.timer"} {
		if !strings.Contains(preset, u+"\n") {
			t.Errorf("preset lacks %q", u)
		}
	}
}
