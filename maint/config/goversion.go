package config

import (
	"strconv"
	"strings"
)

// GoVersion is a parsed Go release such as go1.22.3 or go1.23rc1.
// Prereleases order before the release they precede.
type GoVersion struct {
	Major, Minor, Patch int
	Pre                 string // "rc1", "beta2" or ""
}

// ParseGoVersion parses "go1.22", "go1.22.3", "go1.23rc1" (the "go" prefix
// is optional).
func ParseGoVersion(s string) (GoVersion, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "go")
	var v GoVersion
	if i := strings.IndexAny(s, "abcdefghijklmnopqrstuvwxyz"); i >= 0 {
		s, v.Pre = s[:i], s[i:]
		if v.Pre != "" && !strings.HasPrefix(v.Pre, "rc") && !strings.HasPrefix(v.Pre, "beta") {
			return v, false
		}
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, false
	}
	nums := []*int{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		*nums[i] = n
	}
	return v, true
}

// Less reports whether v is an older release than w.
func (v GoVersion) Less(w GoVersion) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	if v.Patch != w.Patch {
		return v.Patch < w.Patch
	}
	// A release is newer than its prereleases; prereleases compare as text.
	if (v.Pre == "") != (w.Pre == "") {
		return v.Pre != ""
	}
	return v.Pre < w.Pre
}
