package discover

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gomaint/gomaint/maint/paths"
)

// Where a go variable's value comes from; go reads them in this order.
const (
	FromEnvironment = "environment" // the process environment: go env -w cannot override it
	FromGoEnvFile   = "go env file" // GOENV, written by go env -w
	FromGorootEnv   = "GOROOT/go.env"
	FromDefault     = "default" // derived from HOME, XDG_CACHE_HOME or GOPATH
)

// Origin says where the value of one variable comes from, so that a fix
// can name the place to change it.
type Origin struct {
	From string // one of the From* constants
	// File and Line: the go env file, GOROOT/go.env, or, for a value from
	// the environment, the shell profile or environment.d file that sets
	// it, when one does.
	File string
	Line int
	// Unit is the systemd unit whose Environment= sets the value; UserUnit
	// says it belongs to the user's service manager.
	Unit     string
	UserUnit bool
}

// Where finds where key's value comes from for the environment environ;
// goroot is the GOROOT in use ("" when none).
func Where(ctx context.Context, key string, environ []string, goroot string) Origin {
	getenv := EnvFrom(environ)
	if getenv(key) != "" {
		o := Origin{From: FromEnvironment}
		if f, n, ok := firstSetter(key, profileFiles(getenv("HOME"))); ok {
			o.File, o.Line = f, n
		} else if own := os.Getenv("INVOCATION_ID"); own != "" && getenv("INVOCATION_ID") == own {
			o.Unit, o.UserUnit = unitSetting(ctx, key)
		}
		return o
	}
	goenv := getenv("GOENV")
	if goenv == "" {
		if dir := paths.GoConfigHome(getenv); dir != "" {
			goenv = filepath.Join(dir, "go", "env")
		}
	}
	if goenv != "" && goenv != "off" {
		if n := envFileLine(goenv, key); n > 0 {
			return Origin{From: FromGoEnvFile, File: goenv, Line: n}
		}
	}
	if goroot != "" {
		f := filepath.Join(goroot, "go.env")
		if n := envFileLine(f, key); n > 0 {
			return Origin{From: FromGorootEnv, File: f, Line: n}
		}
	}
	return Origin{From: FromDefault}
}

// profileFiles are the files that commonly put variables into a login's
// environment: shell start-up files and environment.d, the user's first.
func profileFiles(home string) []string {
	var files []string
	if home != "" {
		for _, f := range []string{".profile", ".bash_profile", ".bash_login", ".bashrc", ".zshenv", ".zprofile", ".zshrc"} {
			files = append(files, filepath.Join(home, f))
		}
		d, _ := filepath.Glob(filepath.Join(home, ".config", "environment.d", "*.conf"))
		files = append(files, d...)
	}
	files = append(files, "/etc/environment", "/etc/profile")
	for _, g := range []string{"/etc/profile.d/*.sh", "/etc/environment.d/*.conf"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	return append(files, "/etc/bash.bashrc", "/etc/zsh/zshenv")
}

// firstSetter finds the first line of files that assigns key, in sh or
// environment.d syntax: "KEY=...", "export KEY=...".
func firstSetter(key string, files []string) (string, int, bool) {
	re := regexp.MustCompile(`^\s*(?:export\s+)?` + regexp.QuoteMeta(key) + `=`)
	for _, f := range files {
		if n := matchLine(f, re); n > 0 {
			return f, n, true
		}
	}
	return "", 0, false
}

// envFileLine is the line of a go env file that sets key, 0 if none does.
func envFileLine(file, key string) int {
	return matchLine(file, regexp.MustCompile(`^\s*`+regexp.QuoteMeta(key)+`\s*=\s*\S`))
}

func matchLine(file string, re *regexp.Regexp) int {
	f, err := os.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if re.MatchString(sc.Text()) {
			return n
		}
	}
	return 0
}

// unitSetting names the systemd unit this process runs in when its
// Environment= sets key, as `systemctl show` reports it.
func unitSetting(ctx context.Context, key string) (unit string, user bool) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", false
	}
	unit, user = UnitOfCgroup(string(data))
	if unit == "" {
		return "", false
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	args := []string{"show", "--property=Environment", "--value", unit}
	if user {
		args = append([]string{"--user"}, args...)
	}
	out, err := exec.CommandContext(ctx, "systemctl", args...).Output()
	if err != nil {
		return "", false
	}
	for _, kv := range strings.Fields(string(out)) {
		if strings.HasPrefix(kv, key+"=") {
			return unit, user
		}
	}
	return "", false
}

// UnitOfCgroup reads the unit out of a /proc/PID/cgroup (v2) line such as
// "0::/user.slice/user-1000.slice/user@1000.service/app.slice/gomaint.service";
// user is true under a user's service manager.
func UnitOfCgroup(cgroup string) (unit string, user bool) {
	for _, line := range strings.Split(cgroup, "\n") {
		p, ok := strings.CutPrefix(line, "0::")
		if !ok {
			continue
		}
		parts := strings.Split(strings.TrimSpace(p), "/")
		for i := len(parts) - 1; i >= 0; i-- {
			if strings.HasSuffix(parts[i], ".service") || strings.HasSuffix(parts[i], ".scope") {
				unit = parts[i]
				break
			}
		}
		return unit, strings.Contains(p, "/user@")
	}
	return "", false
}
