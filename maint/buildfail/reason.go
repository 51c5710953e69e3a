package buildfail

// The reasons a build failed, as the label values of
// gomaint_build_failures_total.
const (
	CachePermission = "cache_permission" // go was refused access to GOCACHE or GOMODCACHE
	DiskFull        = "disk_full"        // the file system of a cache or of go's temporary directory is full
	GOROOT          = "goroot"           // GOROOT is not a usable Go root
	ModuleDownload  = "module_download"  // a module could not be downloaded
	ModuleChecksum  = "module_checksum"  // a module's download does not match go.sum or the checksum database
	CacheVanished   = "cache_vanished"   // a cache entry was removed while the build used it
	Other           = "other"            // the command failed, and none of the above showed
)

// All returns every reason, in a fixed order.
func All() []string {
	return []string{CachePermission, DiskFull, GOROOT, ModuleDownload, ModuleChecksum, CacheVanished, Other}
}

// Failure is one reason a build failed, as the build showed it.
type Failure struct {
	Reason string `json:"reason"`
	// Cause says what happened and Fix what to do, one sentence each.
	Cause string `json:"cause"`
	Fix   string `json:"fix"`
	// Line is the first line of output that showed it (at most MaxLine
	// bytes, without its newline).
	Line string `json:"line"`
}

// Reasons is what one command counts in gomaint_build_failures_total:
// nothing when it succeeded (whatever it printed), the reasons of fs when
// it failed, and Other when it failed with none of them.
func Reasons(failed bool, fs []Failure) []string {
	if !failed {
		return nil
	}
	if len(fs) == 0 {
		return []string{Other}
	}
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Reason)
	}
	return out
}
