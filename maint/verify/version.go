package verify

import (
	"fmt"
	"strings"

	"golang.org/x/mod/module"
)

// version is one module version of a cache, as go names it on disk:
// escaped path and version (github.com/!burnt!sushi/toml, v1.6.0).
type version struct {
	escPath, escVersion string
	path, ver           string // unescaped, as in go.sum and the zip's names
	hasDir              bool   // the extracted directory exists
	hasZip              bool   // the downloaded .zip exists
}

// modOnly: go keeps only the version's .mod (and perhaps its .info): it
// needed the module's requirements for the module graph, not its code.
func (v *version) modOnly() bool { return !v.hasDir && !v.hasZip }

// parseVersion reads the escaped names go made; a name go could not have
// made (bad escaping) is an error, never guessed at.
func parseVersion(escPath, escVersion string) (*version, error) {
	p, err := module.UnescapePath(escPath)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %w", escPath, escVersion, err)
	}
	v, err := module.UnescapeVersion(escVersion)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %w", escPath, escVersion, err)
	}
	return &version{escPath: escPath, escVersion: escVersion, path: p, ver: v}, nil
}

// splitDir splits an extracted directory's path relative to the cache
// root ("github.com/!burnt!sushi/toml@v1.6.0") at its last '@': a
// version never holds one, a path may.
func splitDir(rel string) (escPath, escVersion string, ok bool) {
	i := strings.LastIndexByte(rel, '@')
	if i <= 0 || i == len(rel)-1 {
		return "", "", false
	}
	return rel[:i], rel[i+1:], true
}

// module is "path@version" as go commands take it.
func (v *version) module() string { return v.path + "@" + v.ver }

// key names the version in the state file: the escaped form, as on disk.
func (v *version) key() string { return v.escPath + "@" + v.escVersion }

// rel is the extracted directory, relative to the cache root.
func (v *version) rel() string { return v.key() }

// atV is the download directory holding .zip and .ziphash.
func (v *version) atV() string { return "cache/download/" + v.escPath + "/@v" }
