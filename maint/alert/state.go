package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gomaint/gomaint/maint/safefs"
)

// StateFile is the dedup state, in the state directory: which findings are
// open, since when, and when each route was last told.
const StateFile = "alerts.json"

// state is what alerts.json holds.
type state struct {
	Open map[string]*open `json:"open"`
}

// open is one finding that is open: fired, not yet resolved.
type open struct {
	Code     string    `json:"code"`
	Severity string    `json:"severity"`
	Target   string    `json:"target"`
	Path     string    `json:"path"`
	Since    time.Time `json:"since"`
	// Told is, per route, when it was last sent the finding and how many
	// times it has been repeated.
	Told map[string]told `json:"told"`
	// Last is the last alert made of the finding, so its resolution can say
	// what was resolved.
	Last Alert `json:"last"`
}

type told struct {
	At      time.Time `json:"at"`
	Repeats int       `json:"repeats"`
}

func loadState(dir string) (*state, error) {
	s := &state{Open: map[string]*open{}}
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alert state: %w", err)
	}
	if err := json.Unmarshal(data, s); err != nil {
		// A damaged file must not stop alerts: start again, and every open
		// finding fires once more, which at-least-once allows.
		return &state{Open: map[string]*open{}}, fmt.Errorf("alert state %s unreadable, starting afresh: %w", filepath.Join(dir, StateFile), err)
	}
	if s.Open == nil {
		s.Open = map[string]*open{}
	}
	return s, nil
}

func (s *state) save(dir string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := safefs.WriteAtomic(dir, StateFile, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("alert state: %w", err)
	}
	return nil
}
