package config

import (
	"cmp"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// GoVersion is a parsed Go release such as go1.22.3 or go1.23rc1.
// Prereleases order before the release they precede.
type GoVersion struct {
	Major, Minor, Patch int
	Pre                 string // "rc1", "beta2" or ""
}

var goRelease = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:go)?([0-9]+)\.([0-9]+)(?:\.([0-9]+))?((?:rc|beta)[0-9]+)?$`)
})

// ParseGoVersion parses "go1.22", "go1.22.3", "go1.23rc1" (the "go" prefix
// is optional).
func ParseGoVersion(s string) (GoVersion, bool) {
	m := goRelease().FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return GoVersion{}, false
	}
	v := GoVersion{Pre: m[4]}
	for i, n := range []*int{&v.Major, &v.Minor, &v.Patch} {
		if m[i+1] == "" {
			continue // no patch
		}
		x, err := strconv.Atoi(m[i+1])
		if err != nil {
			return GoVersion{}, false // out of range
		}
		*n = x
	}
	return v, true
}

// Less reports whether v is an older release than w.
func (v GoVersion) Less(w GoVersion) bool {
	if c := cmp.Or(cmp.Compare(v.Major, w.Major), cmp.Compare(v.Minor, w.Minor), cmp.Compare(v.Patch, w.Patch)); c != 0 {
		return c < 0
	}
	// A release is newer than its prereleases; betas are older than
	// release candidates, and rc10 is newer than rc9.
	if (v.Pre == "") != (w.Pre == "") {
		return v.Pre != ""
	}
	vk, vn := splitPre(v.Pre)
	wk, wn := splitPre(w.Pre)
	return cmp.Or(cmp.Compare(vk, wk), cmp.Compare(vn, wn)) < 0
}

// splitPre splits "rc10" into "rc" and 10.
func splitPre(pre string) (string, int) {
	i := strings.IndexAny(pre, "0123456789")
	if i < 0 {
		return pre, 0
	}
	n, _ := strconv.Atoi(pre[i:])
	return pre[:i], n
}
