// Package finding declares the finding codes: each code once, next to the
// check that reports it, with everything the rest of gomaint derives from
// it (its journal event, the metrics' zero samples, the catalog test).
//
// Invariants: only Declare makes a non-zero Code, so a finding cannot
// carry a code that is undeclared, and hence unjournaled or missing from
// the metrics; names and MESSAGE_IDs are unique, which Declare enforces at
// package initialization.
package finding

import (
	"fmt"
	"regexp"
	"sort"
	"sync"

	"github.com/gomaint/gomaint/maint/journal"
)

// Decl is the declaration of one code.
type Decl struct {
	// Name is the code users see: in JSON, GOMAINT_FINDING and the
	// metrics' code label.
	Name string
	// Lowest and Highest bound the severities the code is reported with;
	// the metrics have a zero sample for each severity in between.
	Lowest, Highest Severity
	// ID is the MESSAGE_ID of the code's events, made once with
	// `systemd-id128 new` and never changed (units/gomaint.catalog).
	ID string
	// Event is the GOMAINT_EVENT name of the code's events.
	Event string
	// MachineWide codes are about the machine, not a cache: their metrics
	// samples have no target label.
	MachineWide bool
	// Summary says in one line what the code means.
	Summary string
}

// Code is a declared finding code. The zero Code is no code (a usable
// GOROOT has none); it marshals as "".
type Code struct{ d *Decl }

var (
	mu     sync.Mutex
	byName = map[string]*Decl{}
	byID   = map[string]*Decl{}
)

var (
	validName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	validID   = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// Declare registers a code. Call it in a package-level var declaration;
// it panics on a malformed declaration or a name or ID already declared,
// which are programming errors that must stop every test at once.
func Declare(d Decl) Code {
	mu.Lock()
	defer mu.Unlock()
	switch {
	case !validName.MatchString(d.Name):
		panic(fmt.Sprintf("finding: code name %q is not [A-Z][A-Z0-9_]*", d.Name))
	case !validID.MatchString(d.ID):
		panic(fmt.Sprintf("finding: %s: MESSAGE_ID %q is not 32 lowercase hex digits", d.Name, d.ID))
	case d.Lowest > d.Highest || d.Lowest < Info || d.Highest > Error:
		panic(fmt.Sprintf("finding: %s: severities %d..%d are not a range", d.Name, d.Lowest, d.Highest))
	case d.Event == "" || d.Summary == "":
		panic(fmt.Sprintf("finding: %s: no event name or summary", d.Name))
	case byName[d.Name] != nil:
		panic(fmt.Sprintf("finding: %s declared twice", d.Name))
	case byID[d.ID] != nil:
		panic(fmt.Sprintf("finding: %s has the MESSAGE_ID of %s", d.Name, byID[d.ID].Name))
	}
	p := &d
	byName[d.Name], byID[d.ID] = p, p
	return Code{p}
}

// Lookup returns the code declared with name.
func Lookup(name string) (Code, bool) {
	mu.Lock()
	defer mu.Unlock()
	d := byName[name]
	return Code{d}, d != nil
}

// All returns every declared code, by name.
func All() []Code {
	mu.Lock()
	defer mu.Unlock()
	out := make([]Code, 0, len(byName))
	for _, d := range byName {
		out = append(out, Code{d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].d.Name < out[j].d.Name })
	return out
}

// Decl returns the code's declaration; the zero Decl for the zero Code.
func (c Code) Decl() Decl {
	if c.d == nil {
		return Decl{}
	}
	return *c.d
}

func (c Code) String() string { return c.Decl().Name }

// IsZero reports whether c is no code; encoding/json's omitzero asks it.
func (c Code) IsZero() bool { return c.d == nil }

// Type is the journal event type of the code's findings.
func (c Code) Type() journal.Type {
	d := c.Decl()
	return journal.Type{ID: d.ID, Event: d.Event}
}

// Allows reports whether s is within the code's declared severities; never
// for the zero Code.
func (c Code) Allows(s Severity) bool {
	return c.d != nil && c.d.Lowest <= s && s <= c.d.Highest
}

func (c Code) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a declared name, or "" for the zero Code.
func (c *Code) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = Code{}
		return nil
	}
	v, ok := Lookup(string(b))
	if !ok {
		return fmt.Errorf("finding code %q is not known to this gomaint", b)
	}
	*c = v
	return nil
}
