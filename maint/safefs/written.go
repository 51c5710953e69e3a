package safefs

import (
	"maps"
	"sync"
)

// Stats is what this process wrote through WriteAtomic, WriteAtomicGroup
// and WriteChanged to one file, by path; a path ending in "/" is a
// directory, whose fsyncs (one per call that renamed something) it counts.
// The daemon shows them so that what it writes to flash storage can be
// measured per file (gomaint-bench -daemon).
type Stats struct {
	Writes int64 `json:"writes"`        // times the file was replaced
	Bytes  int64 `json:"written_bytes"` // of content written
	Fsyncs int64 `json:"fsyncs"`
}

var (
	writtenMu sync.Mutex
	writtenBy = map[string]Stats{}
)

// count records one fsync of path, with the writes and bytes it made durable.
func count(path string, writes, bytes int64) {
	writtenMu.Lock()
	defer writtenMu.Unlock()
	s := writtenBy[path]
	s.Writes += writes
	s.Bytes += bytes
	s.Fsyncs++
	writtenBy[path] = s
}

// Written returns the counts since the process started.
func Written() map[string]Stats {
	writtenMu.Lock()
	defer writtenMu.Unlock()
	return maps.Clone(writtenBy)
}
