// Package tmpfiles reads the tmpfiles.d rules in force, as
// `systemd-tmpfiles --cat-config` prints them, and answers whether a path
// would be cleaned by age or emptied at boot, and whether an `x` line
// excludes it.
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
	return Parse(out, spec), nil
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
		f := strings.Fields(t)
		if len(f) < 2 {
			continue
		}
		r := Rule{Type: strings.TrimRight(f[0], "!-=~^+"), Path: spec.expand(unquote(f[1])), File: file, Line: line}
		if len(f) >= 6 {
			r.Age = f[5]
		}
		rules = append(rules, r)
	}
	return rules
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
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
	// Excluded is the `x` rule that protects the path from Cleaner's aging.
	Excluded *Rule
	// AtBoot is set when Cleaner empties the path at every boot (D, R),
	// which no `x` line prevents.
	AtBoot bool
}

// Protected reports whether nothing would remove the cache's contents.
func (v Verdict) Protected() bool { return v.Cleaner == nil || (v.Excluded != nil && !v.AtBoot) }

// Judge decides what the rules do to the directory p.
func Judge(rules []Rule, p string) Verdict {
	p = path.Clean(p)
	var v Verdict
	for i := range rules {
		r := &rules[i]
		covers := matchesSelfOrAncestor(r.Path, p)
		switch {
		case !covers:
		case r.Type == "D" || r.Type == "R":
			// D empties its directory and R removes its path at boot.
			if v.Cleaner == nil || !v.AtBoot {
				v.Cleaner, v.AtBoot = r, true
			}
		case ages[r.Type] && r.Age != "" && r.Age != "-" && v.Cleaner == nil:
			v.Cleaner = r
		}
	}
	if v.Cleaner != nil && !v.AtBoot {
		for i := range rules {
			r := &rules[i]
			if r.Type == "x" && excludes(r.Path, v.Cleaner.Path, p) {
				v.Excluded = r
				break
			}
		}
	}
	return v
}

// matchesSelfOrAncestor reports whether glob matches p or a directory above it.
func matchesSelfOrAncestor(glob, p string) bool {
	for q := p; ; q = path.Dir(q) {
		if ok, _ := path.Match(glob, q); ok {
			return true
		}
		if q == "/" || q == "." {
			return false
		}
	}
}

// excludes reports whether an x glob matches p or an ancestor of p that
// lies at or below the cleaned directory root.
func excludes(glob, root, p string) bool {
	for q := p; ; q = path.Dir(q) {
		if ok, _ := path.Match(glob, q); ok {
			return true
		}
		if q == "/" || q == "." || !strings.HasPrefix(q, root) || len(q) <= len(root) {
			return false
		}
	}
}
