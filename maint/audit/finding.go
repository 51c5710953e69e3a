package audit

import "github.com/gomaint/gomaint/maint/finding"

// Finding is one problem, with what to do about it.
type Finding struct {
	Code     finding.Code     `json:"code"`
	Severity finding.Severity `json:"severity"`
	// Cache is the target name; empty for machine-wide findings (GOROOT).
	Cache  string `json:"cache"`
	Path   string `json:"path"`
	Detail string `json:"detail"`
	// Fix is a concrete command or configuration line.
	Fix string `json:"fix"`
	// Count and the byte figures are behind the finding, when it has any;
	// each names what it measures, as the facts do: the st_size of the
	// entries found, their st_blocks*512 (how far over a limit), or the
	// free space of a file system.
	Count         int64 `json:"count,omitempty"`
	ApparentBytes int64 `json:"apparent_bytes,omitempty"`
	DiskBytes     int64 `json:"disk_bytes,omitempty"`
	FreeBytes     int64 `json:"free_bytes,omitempty"`
}
