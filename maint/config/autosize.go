package config

// AutoSize is max_size = "auto", the default of every build cache: the
// limit follows from the file system the cache is on (AutoLimit), which
// only target resolution knows. It never reaches a trim or a check: a
// resolved target holds the figure.
const AutoSize Size = -1

// AutoPercent and AutoCap define "auto": this share of the file system,
// at most this much. A fixed size alone would fill small disks (10 GiB is
// most of a 16 GiB VM), a share alone would let a cache on a large disk
// grow past anything a build needs; go's own trim keeps only what was used
// in the last five days, which fits in a few GiB for most developers.
const (
	AutoPercent = 10
	AutoCap     = 10 << 30
)

// AutoLimit is what "auto" means on a file system of totalBytes; 0 (not
// known) gives the cap.
func AutoLimit(totalBytes int64) int64 {
	if totalBytes <= 0 {
		return AutoCap
	}
	return min(totalBytes*AutoPercent/100, AutoCap)
}
