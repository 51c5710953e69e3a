package finding

import (
	"encoding/json"
	"strings"
	"testing"
)

var (
	testWarn = Declare(Decl{Name: "TEST_WARN", Lowest: Warning, Highest: Warning,
		ID: "00000000000000000000000000000001", Event: "finding", Summary: "a test code"})
	testWide = Declare(Decl{Name: "TEST_WIDE", Lowest: Warning, Highest: Error,
		ID: "00000000000000000000000000000002", Event: "goroot", MachineWide: true, Summary: "a machine-wide test code"})
)

// TestCodeJSON: a code reads back as itself, and the zero Code is omitted
// under omitzero, as a usable GOROOT's code must be.
func TestCodeJSON(t *testing.T) {
	type doc struct {
		Code Code `json:"code,omitzero"`
	}
	for _, tc := range []struct {
		in   doc
		want string
	}{{doc{testWide}, `{"code":"TEST_WIDE"}`}, {doc{}, `{}`}} {
		b, err := json.Marshal(tc.in)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.in.Code, b, err, tc.want)
		}
		var back doc
		if err := json.Unmarshal(b, &back); err != nil || back != tc.in {
			t.Errorf("Unmarshal(%s) = %v, %v", b, back.Code, err)
		}
	}
	var empty doc
	if err := json.Unmarshal([]byte(`{"code":""}`), &empty); err != nil || !empty.Code.IsZero() {
		t.Errorf(`"" reads as %v, %v; want the zero Code`, empty.Code, err)
	}
}

// TestUnmarshalUnknownCode: a name no package declared is refused, never
// read as the zero Code (which would hide a finding).
func TestUnmarshalUnknownCode(t *testing.T) {
	var c Code
	err := json.Unmarshal([]byte(`"NOT_DECLARED"`), &c)
	if err == nil || !strings.Contains(err.Error(), "NOT_DECLARED") {
		t.Errorf("unknown code: err = %v, code %v", err, c)
	}
}

func TestDeclareRefuses(t *testing.T) {
	ok := Decl{Name: "TEST_NEW", Lowest: Info, Highest: Info, ID: "0000000000000000000000000000000a", Event: "finding", Summary: "s"}
	for name, change := range map[string]func(*Decl){
		"duplicate name":   func(d *Decl) { d.Name = testWarn.String() },
		"duplicate ID":     func(d *Decl) { d.ID = testWide.Type().ID },
		"uppercase ID":     func(d *Decl) { d.ID = strings.ToUpper(d.ID) },
		"lowercase name":   func(d *Decl) { d.Name = "test_new" },
		"inverted range":   func(d *Decl) { d.Lowest, d.Highest = Error, Warning },
		"no such severity": func(d *Decl) { d.Highest = Error + 1 },
		"no event":         func(d *Decl) { d.Event = "" },
	} {
		d := ok
		change(&d)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Declare did not panic", name)
				}
			}()
			Declare(d)
		}()
	}
	if _, found := Lookup("TEST_NEW"); found {
		t.Error("a refused declaration was registered")
	}
}

func TestRegistry(t *testing.T) {
	if c, ok := Lookup("TEST_WARN"); !ok || c != testWarn {
		t.Errorf("Lookup(TEST_WARN) = %v, %v", c, ok)
	}
	var names []string
	for _, c := range All() {
		names = append(names, c.String())
	}
	if strings.Join(names, " ") != "TEST_WARN TEST_WIDE" {
		t.Errorf("All() = %v, want both test codes by name", names)
	}
	if ty := testWide.Type(); ty.ID != "00000000000000000000000000000002" || ty.Event != "goroot" {
		t.Errorf("Type() = %+v", ty)
	}
	for _, tc := range []struct {
		c    Code
		s    Severity
		want bool
	}{{testWarn, Warning, true}, {testWarn, Error, false}, {testWarn, Info, false}, {testWide, Error, true}, {Code{}, Info, false}} {
		if got := tc.c.Allows(tc.s); got != tc.want {
			t.Errorf("%v.Allows(%v) = %v", tc.c, tc.s, got)
		}
	}
}

func TestSeverityText(t *testing.T) {
	for _, s := range []Severity{Info, Warning, Error} {
		b, _ := s.MarshalText()
		var back Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%v reads back as %v, %v", s, back, err)
		}
	}
	if _, err := ParseSeverity("fatal"); err == nil {
		t.Error(`ParseSeverity("fatal") did not fail`)
	}
}
