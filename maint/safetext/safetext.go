// Package safetext escapes text that came from outside gomaint (file names,
// paths, error messages, configuration values) before it reaches a terminal
// or a line-based log. A cache is written by users gomaint does not trust:
// a file named "x\ngomaint: error: ..." must not forge a line, and one named
// "\x1b[2J" must not drive the terminal. Every text output goes through
// Escape (Fprintf and Quote call it); JSON output needs nothing more, since
// encoding/json escapes control characters itself.
package safetext

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every character that is not printable written as a
// Go escape: \n, \t, \x1b, \u202e (a bidirectional override), and \xff for
// a byte that is not UTF-8. Printable text, spaces included, is unchanged,
// so ordinary names read as they are.
func Escape(s string) string { return escape(s, "") }

// Quote is Escape inside double quotes, with `"` and `\` escaped too, so the
// value reads back unambiguously (as strconv.Unquote would). For key="value"
// fields.
func Quote(s string) string { return `"` + escape(s, `"\`) + `"` }

// ShellQuote quotes s for a command line a person copies from gomaint's
// output: as it is when it needs no quoting, in single quotes when it is
// printable, else in bash's $'...' with the same escapes as Escape, so the
// command names the very file although its name is shown escaped.
func ShellQuote(s string) string {
	switch {
	case s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-@+=:,") == "":
		return s
	case clean(s, ""):
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return "$'" + escape(s, `'\`) + "'"
}

// escape writes non-printable characters as escapes, and the special
// characters given with a backslash before them.
func escape(s string, specials string) string {
	if clean(s, specials) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case strings.ContainsRune(specials, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case printable(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRuneToASCII(r) // '\n', '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

func printable(r rune) bool { return r == ' ' || unicode.IsPrint(r) }

// clean reports whether s needs no escaping: the common case, kept cheap.
func clean(s string, specials string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !printable(r) || strings.ContainsRune(specials, r) {
			return false
		}
	}
	return true
}

// Raw is text gomaint itself made for the terminal (colour codes): Fprintf
// writes it unescaped.
type Raw string

// Fprintf is fmt.Fprintf with every text argument escaped: strings, errors,
// Stringers and slices of them, printed with %s or %v. %q and numbers are
// formatted as fmt does; they cannot hold control characters. The format
// itself is gomaint's own and may hold newlines.
func Fprintf(w io.Writer, format string, args ...any) (int, error) {
	return fmt.Fprintf(w, format, wrap(args)...)
}

// Fprintln is fmt.Fprintln with every text argument escaped.
func Fprintln(w io.Writer, args ...any) (int, error) { return fmt.Fprintln(w, wrap(args)...) }

func wrap(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if raw, ok := a.(Raw); ok {
			out[i] = string(raw)
		} else {
			out[i] = escaped{a}
		}
	}
	return out
}

// escaped formats its value as fmt would, then escapes the result; flags
// and width apply to the escaped text, so columns still line up.
type escaped struct{ v any }

func (e escaped) Format(f fmt.State, verb rune) {
	if verb != 's' && verb != 'v' {
		fmt.Fprintf(f, fmt.FormatString(f, verb), e.v)
		return
	}
	plain := "%"
	for _, flag := range "+#" {
		if f.Flag(int(flag)) {
			plain += string(flag)
		}
	}
	fmt.Fprintf(f, fmt.FormatString(f, 's'), Escape(fmt.Sprintf(plain+string(verb), e.v)))
}
