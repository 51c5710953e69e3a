package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gomaint/gomaint/maint/safefs"
)

// stateFile is in the state directory (paths.StateDir).
const stateFile = "verify.json"

// Entry is what a run remembers of a version that verified: the hash it
// matched and the fingerprint of its files then. A version whose entry is
// unchanged is not hashed again (unless Full).
type Entry struct {
	ZipHash string `json:"ziphash"`
	Stamp   string `json:"stamp"`
}

// state is the file: per cache root, the versions that verified.
type state struct {
	Version int                         `json:"version"`
	Caches  map[string]map[string]Entry `json:"caches"`
}

// loadState reads the state file; a missing or unreadable one means
// nothing is known, which costs a full run, never a wrong verdict.
func loadState(dir string) *state {
	s := &state{Version: 1, Caches: map[string]map[string]Entry{}}
	if dir == "" {
		return s
	}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil || json.Unmarshal(data, s) != nil || s.Version != 1 || s.Caches == nil {
		return &state{Version: 1, Caches: map[string]map[string]Entry{}}
	}
	return s
}

// save writes the state atomically, readable by its owner only: as root
// it lists every user's modules. A run that verified nothing new leaves
// the file as it is (flash storage wears with every write).
func (s *state) save(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("state directory: %w", err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if _, err := safefs.WriteChanged(dir, safefs.File{Name: stateFile, Data: data, Perm: 0o600, Gid: -1}); err != nil {
		return fmt.Errorf("save %s: %w", filepath.Join(dir, stateFile), err)
	}
	return nil
}
