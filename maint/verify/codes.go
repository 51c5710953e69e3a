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
	moduleChecksumMismatch = finding.Declare(finding.Decl{Name: "MODULE_CHECKSUM_MISMATCH", Lowest: finding.Error, Highest: finding.Error,
		ID: "da57ae96d5bc4643b8a8c4eda95877d5", Event: "finding",
		Summary: "the cache disagrees with the checksum database's answer go recorded: a module version's .ziphash or .mod hashes differently, or the record does not parse"})
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
// also names more of the version's download files to remove (".mod").
// The script runs under bash, not sh: safetext.ShellQuote writes a name
// with control characters as $'…', which only bash reads.
func reinstall(cacheRoot string, v *version, also ...string) string {
	q := safetext.ShellQuote
	dl := cacheRoot + "/" + v.atV()
	dir := cacheRoot + "/" + v.rel()
	base := dl + "/" + v.escVersion
	files := q(base+".zip") + " " + q(base+".ziphash")
	for _, ext := range also {
		files += " " + q(base+ext)
	}
	script := fmt.Sprintf("touch %s && chmod -R u+w %s && rm -rf %s %s && rm %s",
		q(base+".partial"), q(dir), q(dir), files, q(base+".partial"))
	return fmt.Sprintf("flock %s bash -c %s && %s", q(base+".lock"), q(script), Refetch(cacheRoot, v.module()))
}

// Refetch is the command that has go download module ("path@version")
// into the module cache at cacheRoot again: gomaint never downloads.
func Refetch(cacheRoot, module string) string {
	q := safetext.ShellQuote
	return fmt.Sprintf("GOMODCACHE=%s GOFLAGS=-mod=mod go mod download %s", q(cacheRoot), q(module))
}

// Removable says whether gomaint fix may remove the version of f, where
// its target allows it (remove_modified): what go downloaded is known,
// by the .ziphash, and the files or the zip differ from it, so go fetches
// a good copy again. MODULE_UNREADABLE (a link, another mount, a file
// that cannot be read) is for a person to look at first, as is
// MODULE_CHECKSUM_MISMATCH (someone rewrote a .ziphash, a .mod or a
// record; the removal keeps .mod), and MODULE_UNVERIFIABLE has nothing
// known to be wrong.
func Removable(f Finding) bool {
	return f.Code == moduleModified || f.Code == moduleZipCorrupt
}

// Reports says whether verification reports code: such a finding stands
// until the next verification of its cache, whatever audits say meanwhile.
func Reports(code finding.Code) bool {
	_, ok := results[code]
	return ok
}

// The results module versions are counted under (metrics'
// gomaint_verify_modules_total): ok (verified now, or unchanged since it
// verified), busy (being downloaded or removed: left for the next run),
// unchecked (only a .mod, with no checksum known for it), and one per
// finding code.
var results = map[finding.Code]string{moduleModified: "modified", moduleUnverifiable: "unverifiable",
	moduleZipCorrupt: "zip_corrupt", moduleUnreadable: "unreadable", moduleChecksumMismatch: "checksum_mismatch"}

// Results lists every result a version is counted under, in a fixed order.
var Results = []string{"ok", "busy", "unchecked", "modified", "unverifiable", "zip_corrupt", "unreadable", "checksum_mismatch"}

// Counts is how many module versions of cache target had each result
// (every name of Results, zeros included); a version with two findings
// counts under both.
func (r *Report) Counts(target string) map[string]int64 {
	n := make(map[string]int64, len(Results))
	for _, name := range Results {
		n[name] = 0
	}
	for _, c := range r.Caches {
		if c.Target == target {
			n["ok"] += int64(len(c.Verified))
			n["busy"] += c.Busy
			n["unchecked"] += c.Unchecked
		}
	}
	for _, f := range r.Findings {
		if f.Cache == target {
			n[results[f.Code]]++
		}
	}
	return n
}

// Succeeded says whether cache target was verified without an error: it
// could be read, and no finding is at error severity.
func (r *Report) Succeeded(target string) bool {
	for _, c := range r.Caches {
		if c.Target == target && c.Error != "" {
			return false
		}
	}
	for _, f := range r.Findings {
		if f.Cache == target && f.Severity >= finding.Error {
			return false
		}
	}
	return true
}
