package buildfail

import (
	"path/filepath"
	"strings"
)

// under finds in line a path under root, as go prints it: absolute, or
// relative to the working directory when that is shorter (base.ShortPath).
// It returns the path as printed, up to the ": " or space after it.
func under(line, root, dir string) (string, bool) {
	if root == "" {
		return "", false
	}
	forms := []string{root}
	if rel, err := filepath.Rel(dir, root); err == nil && dir != "" && rel != "." && len(rel) < len(root) {
		forms = append(forms, rel)
	}
	for _, form := range forms {
		for from := 0; ; {
			i := strings.Index(line[from:], form)
			if i < 0 {
				break
			}
			i += from
			end := i + len(form)
			if boundaryBefore(line, i) && (end == len(line) || strings.ContainsRune("/: )\"'", rune(line[end]))) {
				return pathAt(line, i), true
			}
			from = i + 1
		}
	}
	return "", false
}

// boundaryBefore says whether a path may start at line[i]: not in the
// middle of another word or path.
func boundaryBefore(line string, i int) bool {
	return i == 0 || strings.ContainsRune(" \t(\"'=", rune(line[i-1]))
}

// pathAt is the path starting at line[i]: up to ": ", a space, a quote or
// a closing parenthesis.
func pathAt(line string, i int) string {
	p := line[i:]
	if j := strings.Index(p, ": "); j >= 0 {
		p = p[:j]
	}
	if j := strings.IndexAny(p, " \t\")'"); j >= 0 {
		p = p[:j]
	}
	return strings.TrimSuffix(p, ":")
}

// cacheOf names the cache a path in line is under: "GOCACHE" or
// "GOMODCACHE", with the path and the cache's root.
func cacheOf(line string, env *Env) (name, path, root string, ok bool) {
	if p, ok := under(line, env.GOCACHE, env.Dir); ok {
		return "GOCACHE", p, env.GOCACHE, true
	}
	if p, ok := under(line, env.GOMODCACHE, env.Dir); ok {
		return "GOMODCACHE", p, env.GOMODCACHE, true
	}
	return "", "", "", false
}
