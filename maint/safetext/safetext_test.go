package safetext

import (
	"bytes"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

// The two names of issue 13 item 10: a forged log line and a terminal
// escape. Each must come out as one line with no control character.
const (
	forged = "zz\ngomaint: error: goroot: GOROOT_MISSING forged"
	clear  = "\x1b[2J\x1b[Hgone"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"/var/cache/go/build":  "/var/cache/go/build",
		"go cache/é/日本":        "go cache/é/日本",
		`back\slash "q"`:       `back\slash "q"`,
		forged:                 `zz\ngomaint: error: goroot: GOROOT_MISSING forged`,
		clear:                  `\x1b[2J\x1b[Hgone`,
		"tab\there\r":          `tab\there\r`,
		"bidi\u202eevil":       `bidi\u202eevil`,
		"c1\u0085next":         `c1\u0085next`,
		"bad\xffutf8":          `bad\xffutf8`,
		"nul\x00del\x7f":       `nul\x00del\x7f`,
		"\u2028line separator": `\u2028line separator`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuoteReadsBack(t *testing.T) {
	for _, in := range []string{forged, clear, `a "b" \c`, "é\u202e", "plain"} {
		q := Quote(in)
		if strings.ContainsFunc(q, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Errorf("Quote(%q) = %q holds a control character", in, q)
		}
		if back, err := strconv.Unquote(q); err != nil || back != in {
			t.Errorf("Quote(%q) = %s does not read back: %q %v", in, q, back, err)
		}
	}
}

type name string

func (n name) String() string { return string(n) }

func TestFprintf(t *testing.T) {
	var b bytes.Buffer
	Fprintf(&b, "%-7s %s: %v (%d files, %q) %s%s%s\n", "build", forged, errors.New(clear), 3, "a\nb",
		Raw("\x1b[31m"), name("x\x1by"), Raw("\x1b[0m"))
	want := "build   zz\\ngomaint: error: goroot: GOROOT_MISSING forged: \\x1b[2J\\x1b[Hgone (3 files, \"a\\nb\") \x1b[31mx\\x1by\x1b[0m\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
	b.Reset()
	Fprintf(&b, "%-9s|%v|%v\n", "a\nb", []string{"p\n", "q"}, 42)
	if got := b.String(); got != "a\\nb     |[p\\n q]|42\n" {
		t.Errorf("width or slice: %q", got)
	}
	b.Reset()
	Fprintln(&b, "entry", forged)
	if strings.Count(b.String(), "\n") != 1 {
		t.Errorf("Fprintln wrote more than one line: %q", b.String())
	}
}

// TestShellQuoteWithRealBash: the quoted form, printed by bash, is the
// original name again, byte for byte, and holds no control character.
func TestShellQuoteWithRealBash(t *testing.T) {
	bash := testenv.Command(t, "bash")
	for _, in := range []string{"/plain/path", "/with space/it's", forged, clear, `q"\b`, "bidi\u202e\xff", "'", ""} {
		q := ShellQuote(in)
		if strings.ContainsFunc(q, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Errorf("ShellQuote(%q) = %q holds a control character", in, q)
		}
		out, err := exec.Command(bash, "-c", "printf %s "+q).Output()
		if err != nil || string(out) != in {
			t.Errorf("bash read %s as %q (%v), want %q", q, out, err, in)
		}
	}
}

func TestFprintfFlags(t *testing.T) {
	var b bytes.Buffer
	v := struct{ N string }{"a\nb"}
	Fprintf(&b, "%+v|%#v|%5.2s|%x|%5d", v, "q\x1b", "xyz", "\n", 7)
	if want := `{N:a\nb}|"q\x1b"|   xy|0a|    7`; b.String() != want {
		t.Errorf("got  %s\nwant %s", b.String(), want)
	}
}
