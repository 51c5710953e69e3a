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
	Open map[string]*Open `json:"open"`
}

// Open is one finding that is open: seen, not yet resolved.
type Open struct {
	Code     string    `json:"code"`
	Severity string    `json:"severity"`
	Target   string    `json:"target"`
	Path     string    `json:"path"`
	Since    time.Time `json:"since"`
	// Told is, per route, when it was last sent the finding and how many
	// times it has been repeated.
	Told map[string]Told `json:"told"`
	// Last is the last alert made of the finding, so its resolution can say
	// what was resolved.
	Last Alert `json:"last"`
}

type Told struct {
	At      time.Time `json:"at"`
	Repeats int       `json:"repeats"`
}

func loadState(dir string) (*state, error) {
	s := &state{Open: map[string]*Open{}}
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
		return &state{Open: map[string]*Open{}}, fmt.Errorf("alert state %s unreadable, starting afresh: %w", filepath.Join(dir, StateFile), err)
	}
	if s.Open == nil {
		s.Open = map[string]*Open{}
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

// OpenFindings lists the findings alerts.json holds open, by key, for
// `gomaint alert list`.
func OpenFindings(dir string) ([]*Open, error) {
	st, err := loadState(dir)
	if st == nil {
		return nil, err
	}
	var out []*Open
	for _, k := range sortedKeys(st.Open) {
		out = append(out, st.Open[k])
	}
	return out, err
}
