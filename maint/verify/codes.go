package verify

import (
	"fmt"

	"github.com/gomaint/gomaint/maint/finding"
	"github.com/gomaint/gomaint/maint/safetext"
)

var (
	moduleModified = finding.Declare(finding.Decl{Name: "MODULE_MODIFIED", Lowest: finding.Error, Highest: finding.Error,
		ID: "70d6cf3eabff4f1588c7e63b0ee6c090", Event: "finding",
		Summary: "the extracted files of a module version differ from the hash go recorded when it downloaded them"})
	moduleUnverifiable = finding.Declare(finding.Decl{Name: "MODULE_UNVERIFIABLE", Lowest: finding.Info, Highest: finding.Info,
		ID: "c7544699e52d4a5785f3a76404c7e2f6", Event: "finding",
		Summary: "a module version has no .ziphash to check its files against"})
	moduleZipCorrupt = finding.Declare(finding.Decl{Name: "MODULE_ZIP_CORRUPT", Lowest: finding.Error, Highest: finding.Error,
		ID: "aa1053b2bc054e0a9a6ecbff469af7a7", Event: "finding",
		Summary: "a module version's downloaded .zip is unreadable or differs from its .ziphash, or the .ziphash holds no hash"})
	moduleUnreadable = finding.Declare(finding.Decl{Name: "MODULE_UNREADABLE", Lowest: finding.Error, Highest: finding.Error,
		ID: "1c41e3040ef542a9b76514ffea797870", Event: "finding",
		Summary: "a module version holds an entry go never writes (a symbolic link, a special file, another mount) or a file that cannot be read; it was not followed"})
)

// Finding is one module version that did not verify, with what to do.
type Finding struct {
	Code     finding.Code     `json:"code"`
	Severity finding.Severity `json:"severity"`
	Cache    string           `json:"cache"` // the target's name
	// Module is "path@version", unescaped, as go commands take it.
	Module string `json:"module"`
	// Path is the extracted directory, relative to the cache root (escaped,
	// as on disk).
	Path   string `json:"path"`
	Detail string `json:"detail"`
	// Files are the first files that differ (added, removed or changed),
	// relative to the version's directory, when the .zip was there to
	// compare with.
	Files []string `json:"files"`
	Fix   string   `json:"fix"`
}

// reinstall is the fix for a version whose files cannot be trusted: remove
// that one version under go's lock, as go's own protocol does (.partial
// first, so that a go command meanwhile treats it as missing), then have
// go download it again into the same cache. gomaint clean removes by age
// or size only, and `go clean -modcache` would remove every version.
func reinstall(cacheRoot string, v *version) string {
	q := safetext.ShellQuote
	dl := cacheRoot + "/" + v.atV()
	dir := cacheRoot + "/" + v.rel()
	base := dl + "/" + v.escVersion
	script := fmt.Sprintf("touch %s && chmod -R u+w %s && rm -rf %s %s %s && rm %s",
		q(base+".partial"), q(dir), q(dir), q(base+".zip"), q(base+".ziphash"), q(base+".partial"))
	return fmt.Sprintf("flock %s sh -c %s && GOMODCACHE=%s GOFLAGS=-mod=mod go mod download %s",
		q(base+".lock"), q(script), q(cacheRoot), q(v.module()))
}
