// Package tmpfiles reads the tmpfiles.d rules in force, as
// `systemd-tmpfiles --cat-config` prints them, and answers whether a path
// would be cleaned by age or emptied at boot.
package tmpfiles

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path"
	"strings"
	"time"
)

// Rule is one tmpfiles.d line.
type Rule struct {
	Type string // letter without modifiers: d, D, e, q, x, ...
	Path string // with known specifiers expanded
	Age  string // "-" or empty when none
	File string // the file it came from
	Line int    // its line in that file
	User bool   // from systemd-tmpfiles --user, which runs apart from the system's
}

func (r Rule) String() string {
	return fmt.Sprintf("%s:%d: %s %s (age %s)", r.File, r.Line, r.Type, r.Path, r.Age)
}

// Specifiers expands %-specifiers in rule paths. Unknown ones become "*",
// so a rule with them still matches as a glob.
type Specifiers map[byte]string

// SystemSpecifiers are the expansions for system rules.
func SystemSpecifiers() Specifiers {
	return Specifiers{'C': "/var/cache", 'S': "/var/lib", 'L': "/var/log", 't': "/run", 'T': "/tmp", 'V': "/var/tmp", 'h': "/root", '%': "%"}
}

// UserSpecifiers are the expansions for a user's rules.
func UserSpecifiers(home, cacheDir, configDir, runtimeDir string) Specifiers {
	return Specifiers{'C': cacheDir, 'S': configDir, 'L': cacheDir + "/log", 't': runtimeDir, 'T': "/tmp", 'V': "/var/tmp", 'h': home, '%': "%"}
}

// Load runs `systemd-tmpfiles [--user] --cat-config` and parses its output.
func Load(ctx context.Context, user bool, spec Specifiers, environ []string) ([]Rule, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	args := []string{"--cat-config"}
	if user {
		args = []string{"--user", "--cat-config"}
	}
	cmd := exec.CommandContext(ctx, "systemd-tmpfiles", args...)
	cmd.Env = append(environ, "SYSTEMD_PAGER=cat", "SYSTEMD_COLORS=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("systemd-tmpfiles %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	rules := Parse(out, spec)
	for i := range rules {
		rules[i].User = user
	}
	return rules, nil
}

// Parse reads --cat-config output: "# /path/file.conf" headers, then lines.
func Parse(out []byte, spec Specifiers) []Rule {
	var rules []Rule
	file, line := "", 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		text := sc.Text()
		line++
		if rest, ok := strings.CutPrefix(text, "# /"); ok && strings.HasSuffix(rest, ".conf") && !strings.ContainsAny(rest, " \t") {
			file, line = "/"+rest, 0
			continue
		}
		t := strings.TrimSpace(text)
		if t == "" || t[0] == '#' {
			continue
		}
		f, err := fields(t, 6)
		if err != nil || len(f) < 2 || f[0] == "" {
			continue // systemd-tmpfiles ignores the line too (a quoted "" has no type)
		}
		typ := f[0][:1]
		if !strings.Contains(ruleTypes, typ) || strings.Trim(f[0][1:], "!-=~^+") != "" {
			continue // systemd-tmpfiles refuses the line, so it protects nothing
		}
		r := Rule{Type: typ, Path: spec.expand(f[1]), File: file, Line: line}
		if len(f) >= 6 {
			r.Age = f[5]
		}
		rules = append(rules, r)
	}
	return rules
}

// ruleTypes are the line types systemd-tmpfiles knows: one letter, then
// only modifiers (tmpfiles.d(5); F and m are still read as old names).
const ruleTypes = "ACDFHLQRTXZabcdefhmpqrtvwxz"

// globTypes are the line types whose path is a glob (fnmatch, where a
// backslash makes the next character literal); the others name one path
// exactly. An x line is a glob even without *, ? or [.
var globTypes = map[string]bool{"w": true, "e": true, "x": true, "X": true, "r": true, "R": true, "z": true, "Z": true,
	"t": true, "T": true, "h": true, "H": true, "a": true, "A": true}

// matches reports whether the rule names path p.
func (r *Rule) matches(p string) bool {
	if !globTypes[r.Type] {
		return r.Path == p
	}
	ok, _ := path.Match(r.Path, p)
	return ok
}

func (s Specifiers) expand(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+1 < len(p) {
			i++
			if v, ok := s[p[i]]; ok {
				b.WriteString(v)
			} else {
				b.WriteByte('*')
			}
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// ages are the types whose Age field cleans a directory's contents.
var ages = map[string]bool{"d": true, "D": true, "e": true, "v": true, "q": true, "Q": true, "C": true}

// Verdict says what the rules do to a path.
type Verdict struct {
	// Cleaner is the rule that ages the path's contents or empties it at
	// boot; nil when none does.
	Cleaner *Rule
	// AtBoot is set when Cleaner empties the path at every boot (D, R).
	AtBoot bool
}

// Protected reports whether nothing would remove the cache's contents.
func (v Verdict) Protected() bool { return v.Cleaner == nil }

// Judge decides what the rules do to the directory p. System and user
// rules are applied by separate runs (systemd-tmpfiles, and --user as the
// user), so each set is judged on its own: an entry of one never keeps
// the other's aging away.
//
// Aging follows systemd-tmpfiles' dir_cleanup (checked against the real
// one in tests): a rule with an age cleans its directory's contents
// recursively but skips, with everything below it, any path that has an
// entry of its own, of any type (x and X included), literal or glob. So
// the aging that reaches p is the nearest rule with an age at or above p
// with no such entry in between: a cache with a "d" line of its own is
// safe from /var/tmp's aging. Emptying at boot (D, R with --remove) skips
// nothing.
func Judge(rules []Rule, p string) Verdict {
	p = path.Clean(p)
	for _, user := range []bool{false, true} {
		if v := judge(rules, user, p); !v.Protected() {
			return v
		}
	}
	return Verdict{}
}

// judge is Judge over the rules of one run.
func judge(rules []Rule, user bool, p string) Verdict {
	for i := range rules {
		r := &rules[i]
		if r.User == user && (r.Type == "D" || r.Type == "R") && r.matchesSelfOrAncestor(p) {
			return Verdict{Cleaner: r, AtBoot: true}
		}
	}
	for q := p; ; q = path.Dir(q) {
		ownLine := false
		for i := range rules {
			r := &rules[i]
			if r.User != user {
				continue
			}
			if !r.matches(q) {
				continue
			}
			if ages[r.Type] && r.Age != "" && r.Age != "-" {
				return Verdict{Cleaner: r}
			}
			ownLine = true
		}
		if ownLine || q == "/" || q == "." {
			return Verdict{} // q's own entry keeps any aging above from reaching p
		}
	}
}

// matchesSelfOrAncestor reports whether the rule names p or a directory above it.
func (r *Rule) matchesSelfOrAncestor(p string) bool {
	for q := p; ; q = path.Dir(q) {
		if r.matches(q) {
			return true
		}
		if q == "/" || q == "." {
			return false
		}
	}
}
